# Behaviour: glueContext.purge_s3_path(path, options={"retentionPeriod": 0}) deletes every file under
# the path (and its sub-folders), and nothing beside it (a sibling whose name starts the same stays).
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/purge_s3_path/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)
TARGET = PREFIX + "target/"
SIBLING = PREFIX + "target_kept/"

def listed(prefix):
    s3 = boto3.client("s3")
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

s3 = boto3.client("s3")
for key in listed(PREFIX):
    s3.delete_object(Bucket=BUCKET, Key=key)
for key in (TARGET + "run-1-part-r-00000", TARGET + "run-1-part-r-00001", TARGET + "nested/run-2-part-r-00000", SIBLING + "keep.json"):
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'{"k": 1}\n')
assert len(listed(TARGET)) == 3 and len(listed(SIBLING)) == 1

# A long retention period keeps files just written.
glueContext.purge_s3_path("s3://stedi-studio-lake/behaviours/purge_s3_path/target/", options={"retentionPeriod": 24})
assert len(listed(TARGET)) == 3, listed(TARGET)

glueContext.purge_s3_path("s3://stedi-studio-lake/behaviours/purge_s3_path/target/", options={"retentionPeriod": 0})
assert listed(TARGET) == [], listed(TARGET)
assert listed(SIBLING) == [SIBLING + "keep.json"], listed(SIBLING)
s3.delete_object(Bucket=BUCKET, Key=SIBLING + "keep.json")
job.commit()
