// Prints the caller ARN the JS SDK v3 gets for the profile AWS_PROFILE names, as a user's program
// would: fromIni reads ~/.aws/config (AWS_CONFIG_FILE) and runs its credential_process. (The default
// chain works the same but replaces the helper's error with "Could not load credentials from any
// providers"; fromIni keeps awskeep's message, which the tests check.)
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromIni } from "@aws-sdk/credential-providers";

try {
  const client = new STSClient({ credentials: fromIni() });
  const identity = await client.send(new GetCallerIdentityCommand({}));
  process.stdout.write(identity.Arn + "\n");
} catch (error) {
  process.stderr.write(`js-sdk: ${error.name}: ${error.message}\n`);
  process.exit(1);
}
