"""Creates the admin user the integration tests act as in moto, before auth enforcement is on.

Prints {"id": ..., "secret": ...}. This is moto's fake account; the key exists only in the
emulator of this test run.
"""
import json

import boto3

iam = boto3.client("iam")
iam.create_user(UserName="awskeep-test-admin")
iam.put_user_policy(
    UserName="awskeep-test-admin",
    PolicyName="all",
    PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    ),
)
key = iam.create_access_key(UserName="awskeep-test-admin")["AccessKey"]
print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
