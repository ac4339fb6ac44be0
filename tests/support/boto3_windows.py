"""boto3 as on Windows: botocore splits the credential_process line with its Windows rules
(compat_shell_split(..., platform="win32")) and starts the resulting argv; here that argv runs under
Wine, since the program is a Windows .exe. Prints the caller ARN for the profile in argv[1].

The Windows process reads the AWS files through their Windows paths (AWSKEEP_WINDOWS_*), as the
Windows awskeep would on a user's machine; botocore reads the same files through their Linux paths.
"""
import os
import subprocess
import sys

import boto3
import botocore.compat
import botocore.credentials


def windows_split(line):
    return botocore.compat.compat_shell_split(line, platform="win32")


def wine_popen(argv, **kwargs):
    env = dict(os.environ)
    env["AWS_CONFIG_FILE"] = env.pop("AWSKEEP_WINDOWS_CONFIG_FILE")
    env["AWS_SHARED_CREDENTIALS_FILE"] = env.pop("AWSKEEP_WINDOWS_CREDENTIALS_FILE")
    return subprocess.Popen([os.environ["WINE"], *argv], env=env, **kwargs)


botocore.credentials.compat_shell_split = windows_split
session = boto3.Session(profile_name=sys.argv[1])
resolver = session._session.get_component("credential_provider")
resolver.get_provider("custom-process")._popen = wine_popen
print(session.client("sts").get_caller_identity()["Arn"])
