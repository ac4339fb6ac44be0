# Installs awskeep on Windows (x86_64; also runs on arm64 Windows through its x64 emulation).
#
#   irm https://github.com/OWNER/awskeep/releases/latest/download/install.ps1 | iex
#   .\install.ps1 [-Dir DIR] [-Version V] [-BaseUrl URL] [-Uninstall]
#
# Downloads awskeep-VERSION-x86_64-pc-windows-gnu.zip and SHA256SUMS, checks the zip's SHA-256
# (refusing to install on a mismatch), and installs awskeep.exe without administrator rights to
# $env:AWSKEEP_INSTALL_DIR, -Dir, else %LOCALAPPDATA%\Programs\awskeep, which it adds to the user's
# PATH. Run it again to upgrade (same path, so credential_process lines keep working).
# -BaseUrl (or $env:AWSKEEP_DOWNLOAD_URL): the folder holding the zip and SHA256SUMS.
param(
    [string]$Dir = $env:AWSKEEP_INSTALL_DIR,
    [string]$Version = '',
    [string]$BaseUrl = $env:AWSKEEP_DOWNLOAD_URL,
    [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'
$DefaultRepo = 'awskeep/awskeep'
$Target = 'x86_64-pc-windows-gnu'

function Say([string]$Message) { [Console]::Error.WriteLine("awskeep install: $Message") }

if (-not $Dir) { $Dir = Join-Path $env:LOCALAPPDATA 'Programs\awskeep' }
$Exe = Join-Path $Dir 'awskeep.exe'

function Set-UserPath([string]$Folder, [bool]$Add) {
    $current = [Environment]::GetEnvironmentVariable('Path', 'User')
    $parts = @()
    if ($current) { $parts = $current.Split(';') | Where-Object { $_ -and ($_ -ne $Folder) } }
    if ($Add) { $parts = @($Folder) + $parts }
    [Environment]::SetEnvironmentVariable('Path', ($parts -join ';'), 'User')
}

if ($Uninstall) {
    if (Test-Path $Exe) { Remove-Item -Force $Exe }
    Set-UserPath $Dir $false
    Say "removed $Exe and its PATH entry; your Credential Manager items and ~\.aws\config are untouched"
    Say "(profiles awskeep served now fail: before uninstalling, 'awskeep list' and 'awskeep remove NAME --yes' for each)"
    return
}

$Version = $Version.TrimStart('v')
if (-not $BaseUrl) {
    if ($Version) { $BaseUrl = "https://github.com/$DefaultRepo/releases/download/v$Version" }
    else { $BaseUrl = "https://github.com/$DefaultRepo/releases/latest/download" }
}
$BaseUrl = $BaseUrl.TrimEnd('/')

$Tmp = Join-Path ([IO.Path]::GetTempPath()) ("awskeep-install-" + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $Tmp | Out-Null
try {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $Sums = Join-Path $Tmp 'SHA256SUMS'
    Invoke-WebRequest -UseBasicParsing -Uri "$BaseUrl/SHA256SUMS" -OutFile $Sums
    $VersionPattern = if ($Version) { [regex]::Escape($Version) } else { '[0-9][^ ]*' }
    $Line = Get-Content $Sums | Where-Object { $_ -match "^[0-9a-f]{64} [ *]awskeep-$VersionPattern-$Target\.zip$" } | Select-Object -First 1
    if (-not $Line) { throw "$BaseUrl has no awskeep archive for $Target" }
    $Expected = $Line.Substring(0, 64)
    $Archive = $Line.Substring(66)
    Say "downloading $BaseUrl/$Archive"
    $Zip = Join-Path $Tmp $Archive
    Invoke-WebRequest -UseBasicParsing -Uri "$BaseUrl/$Archive" -OutFile $Zip
    $Actual = (Get-FileHash -Algorithm SHA256 -Path $Zip).Hash.ToLowerInvariant()
    if ($Actual -ne $Expected) {
        throw "checksum mismatch for ${Archive}: SHA256SUMS says $Expected, the download is $Actual; nothing was installed"
    }
    Expand-Archive -Path $Zip -DestinationPath $Tmp
    $New = Get-ChildItem -Path $Tmp -Recurse -Filter 'awskeep.exe' | Select-Object -First 1
    if (-not $New) { throw "$Archive holds no awskeep.exe" }
    New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    # Beside the old one first, then moved over it: no AWS call finds a half-written awskeep.exe.
    $Staged = Join-Path $Dir 'awskeep.exe.new'
    Copy-Item -Force $New.FullName $Staged
    Move-Item -Force $Staged $Exe
    $UserPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (-not $UserPath -or -not ($UserPath.Split(';') -contains $Dir)) {
        Set-UserPath $Dir $true
        Say "added $Dir to your PATH (new terminals see it)"
    }
    Say "installed $(& $Exe --version) to $Exe"
    Say "next: awskeep add PROFILE (or awskeep migrate to move plaintext keys from ~\.aws\credentials)"
}
finally {
    Remove-Item -Recurse -Force $Tmp -ErrorAction SilentlyContinue
}
