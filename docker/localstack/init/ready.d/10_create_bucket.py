"""LocalStack init hook (ready stage, run inside LocalStack's process): create the lakehouse bucket.

The free edition keeps S3 in memory, so this runs on every start. The bucket name comes from the
compose file (STEDI_BUCKET), which tests/unit/test_compose.py holds equal to catalog/tables.toml.
"""

import os

import boto3

bucket = os.environ["STEDI_BUCKET"]
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name=os.environ.get("AWS_DEFAULT_REGION",
                  "us-east-1"), aws_access_key_id="test", aws_secret_access_key="test")
if bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
    print(f"bucket s3://{bucket} exists")
else:
    s3.create_bucket(Bucket=bucket)
    print(f"created bucket s3://{bucket}")
