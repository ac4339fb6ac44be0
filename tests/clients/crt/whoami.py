"""Resolves the profile named on the command line through the CRT's credential_process provider
(aws-c-auth, as the AWS CLI v2's CRT transfers and Mountpoint use it: `popen(line + " 2> /dev/null")`,
the profile read from AWS_CONFIG_FILE), then calls STS GetCallerIdentity with exactly those
credentials (through botocore, at AWS_ENDPOINT_URL) and prints the caller's ARN.
With --version it prints awscrt's version."""

import sys
from importlib.metadata import version

import boto3
from awscrt.auth import AwsCredentialsProvider


def main() -> int:
    if sys.argv[1] == "--version":
        print(version("awscrt"))
        return 0
    provider = AwsCredentialsProvider.new_process(profile_to_use=sys.argv[1])
    try:
        creds = provider.get_credentials().result(timeout=60)
    except Exception as e:  # the CRT's error carries no awskeep message: name what failed
        print(f"awscrt new_process: {e!r}", file=sys.stderr)
        return 1
    sts = boto3.Session(
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    ).client("sts")
    print(sts.get_caller_identity()["Arn"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
