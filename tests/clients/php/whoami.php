<?php
// What the AWS SDK for PHP v3 does with a credential_process line, reproduced without the SDK
// (it comes from Packagist, which this machine cannot reach), then STS GetCallerIdentity signed
// with the credentials it got, printing the caller's ARN. With --version it prints PHP's version.
//
// Transcribed from aws/aws-sdk-php at 00b17f99 (src/Credentials/CredentialProvider.php) and
// 208f7f7f (src/functions.php):
// - defaultProvider() looks for the profile in getHomeDir() . '/.aws/config' (HOME, not
//   AWS_CONFIG_FILE) under the section 'profile ' . (getenv('AWS_PROFILE') ?: 'default'), with
//   process('profile ' . $profileName, $home . '/.aws/config').
// - process() reads the file with \Aws\parse_ini_file($filename, true, INI_SCANNER_RAW), which is
//   parse_ini_string(preg_replace('/^#.*\n/m', '', file_get_contents($filename)), ...): PHP's
//   own INI scanner in raw mode, after dropping whole-line `#` comments.
// - It runs the value with shell_exec($credentialProcess) (`/bin/sh -c` on Unix; stderr is
//   inherited, the exit status ignored), then json_decode($json, true): 'Version', when present,
//   must be === 1; 'AccessKeyId' and 'SecretAccessKey' must be set; an 'Expiration' in the past
//   is rejected; an empty 'SessionToken' counts as none.

if (($argv[1] ?? '') === '--version') {
    echo PHP_VERSION, "\n";
    exit(0);
}

function fail(string $message): void
{
    fwrite(STDERR, "php: $message\n");
    exit(1);
}

// --- CredentialProvider::process, as the default chain calls it for a config-file profile -------
$profileName = getenv('AWS_PROFILE') ?: 'default';
$profile = 'profile ' . $profileName;
$filename = getenv('HOME') . '/.aws/config';
if (!@is_readable($filename)) {
    fail("Cannot read process credentials from $filename");
}
$data = parse_ini_string(
    preg_replace('/^#.*\\n/m', "", file_get_contents($filename)),
    true,
    INI_SCANNER_RAW
);
if ($data === false) {
    fail("Invalid credentials file: $filename");
}
if (!isset($data[$profile]['credential_process'])) {
    fail("No credential_process present in INI profile '$profile' ($filename)");
}
$credentialProcess = $data[$profile]['credential_process'];
$json = shell_exec($credentialProcess);
$processData = json_decode((string) $json, true);
if (isset($processData['Version']) && $processData['Version'] !== 1) {
    fail("credential_process does not return Version == 1");
}
if (!isset($processData['AccessKeyId']) || !isset($processData['SecretAccessKey'])) {
    fail("credential_process does not return valid credentials (ran: $credentialProcess)");
}
if (isset($processData['Expiration'])) {
    $expiration = strtotime($processData['Expiration']);
    if ($expiration === false) {
        fail("credential_process returned invalid expiration");
    }
    if ($expiration < time()) {
        fail("credential_process returned expired credentials");
    }
}
$key = $processData['AccessKeyId'];
$secret = $processData['SecretAccessKey'];
$token = empty($processData['SessionToken']) ? null : $processData['SessionToken'];

// --- STS GetCallerIdentity, signed with Signature Version 4 ------------------------------------
$endpoint = rtrim(getenv('AWS_ENDPOINT_URL') ?: 'https://sts.amazonaws.com', '/');
$region = getenv('AWS_REGION') ?: 'us-east-1';
$host = parse_url($endpoint, PHP_URL_HOST);
$port = parse_url($endpoint, PHP_URL_PORT);
$hostHeader = $port ? "$host:$port" : $host;
$body = 'Action=GetCallerIdentity&Version=2011-06-15';
$amzDate = gmdate('Ymd\THis\Z');
$day = substr($amzDate, 0, 8);
$headers = [
    'content-type' => 'application/x-www-form-urlencoded; charset=utf-8',
    'host' => $hostHeader,
    'x-amz-date' => $amzDate,
];
if ($token !== null) {
    $headers['x-amz-security-token'] = $token;
}
ksort($headers);
$canonicalHeaders = '';
foreach ($headers as $name => $value) {
    $canonicalHeaders .= "$name:" . trim($value) . "\n";
}
$signedHeaders = implode(';', array_keys($headers));
$canonicalRequest = "POST\n/\n\n$canonicalHeaders\n$signedHeaders\n" . hash('sha256', $body);
$scope = "$day/$region/sts/aws4_request";
$stringToSign = "AWS4-HMAC-SHA256\n$amzDate\n$scope\n" . hash('sha256', $canonicalRequest);
$signingKey = 'AWS4' . $secret;
foreach ([$day, $region, 'sts', 'aws4_request'] as $part) {
    $signingKey = hash_hmac('sha256', $part, $signingKey, true);
}
$signature = hash_hmac('sha256', $stringToSign, $signingKey);
$headers['authorization'] = "AWS4-HMAC-SHA256 Credential=$key/$scope, "
    . "SignedHeaders=$signedHeaders, Signature=$signature";
$headerLines = [];
foreach ($headers as $name => $value) {
    if ($name !== 'host') {
        $headerLines[] = "$name: $value";
    }
}
$context = stream_context_create(['http' => [
    'method' => 'POST',
    'header' => implode("\r\n", $headerLines),
    'content' => $body,
    'ignore_errors' => true,
    'timeout' => 30,
]]);
$response = @file_get_contents("$endpoint/", false, $context);
if ($response === false) {
    fail("STS at $endpoint did not answer");
}
if (!preg_match('#<Arn>([^<]+)</Arn>#', $response, $match)) {
    fail("STS answered without an ARN: $response");
}
echo $match[1], "\n";
