#!/bin/sh
# LocalStack init hook (ready stage): create the lakehouse bucket. The free edition of LocalStack
# keeps S3 in memory, so this runs on every start. The bucket name comes from the compose file
# (STEDI_BUCKET), which tests/unit/test_compose.py holds equal to catalog/tables.toml.
set -eu
: "${STEDI_BUCKET:?STEDI_BUCKET must name the lakehouse bucket}"
if awslocal s3api head-bucket --bucket "$STEDI_BUCKET" 2>/dev/null; then
  echo "bucket s3://$STEDI_BUCKET exists"
else
  awslocal s3api create-bucket --bucket "$STEDI_BUCKET"
  echo "created bucket s3://$STEDI_BUCKET"
fi
