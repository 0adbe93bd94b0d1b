# Behaviour: job bookmarks. Run twice with --job-bookmark-option job-bookmark-enable:
#   stedi glue run tests/glue_studio/behaviours/job_bookmark.py --job-bookmark-option job-bookmark-enable --BOOKMARK_RUN first
#   stedi glue run tests/glue_studio/behaviours/job_bookmark.py --job-bookmark-option job-bookmark-enable --BOOKMARK_RUN second
# The first run writes its input afresh and reads it (2 files, 3 records); after job.commit() the
# second run reads 0 new files, so the output still holds 3 records, not 6.
import sys
import json
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/job_bookmark/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def stage_input():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    first = [{"sensorReadingTime": 1655564444103, "serialNumber": "a-1", "distanceFromObject": 218},
             {"sensorReadingTime": 1655564440170, "serialNumber": "a-1", "distanceFromObject": 230}]
    second = [{"sensorReadingTime": 1655564448000, "serialNumber": "b-2", "distanceFromObject": 12}]
    for name, lines in (("step_trainer-1.json", first), ("step_trainer-2.json", second)):
        s3.put_object(Bucket=BUCKET, Key=PREFIX + "landing/" + name, Body="\n".join(json.dumps(x) for x in lines).encode())

args = getResolvedOptions(sys.argv, ['JOB_NAME', 'BOOKMARK_RUN'])
assert args['job_bookmark_option'] == "job-bookmark-enable", args
assert args['BOOKMARK_RUN'] in ("first", "second"), args
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
if args['BOOKMARK_RUN'] == "first":
    stage_input()

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764161201001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/job_bookmark/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764161201001")
new_records = StepTrainerLanding_node1764161201001.count()
expected = 3 if args['BOOKMARK_RUN'] == "first" else 0
assert new_records == expected, (args['BOOKMARK_RUN'], new_records)

# Script generated for node Step Trainer Trusted
StepTrainerTrusted_node1764161201002 = glueContext.write_dynamic_frame.from_options(frame=StepTrainerLanding_node1764161201001, connection_type="s3", format="json", connection_options={"path": "s3://stedi-studio-lake/behaviours/job_bookmark/trusted/", "partitionKeys": []}, transformation_ctx="StepTrainerTrusted_node1764161201002")

# Read without a transformation_ctx, so without the bookmark: the whole output.
everything = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/job_bookmark/trusted/"], "recurse": True})
assert everything.count() == 3, everything.count()
job.commit()
