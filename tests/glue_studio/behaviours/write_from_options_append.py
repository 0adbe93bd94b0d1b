# Behaviour: write_dynamic_frame.from_options appends: each run adds new part files beside the
# earlier ones, so a second run doubles what is there ("my counts doubled"). The script does not
# clear its output: run it twice on a fresh stack and the second run finds 2 x 482 customers.
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/write_from_options_append/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def part_files():
    s3 = boto3.client("s3")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        found += [item["Key"] for item in page.get("Contents", [])]
    return found

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

before = part_files()
rows_before = 0
if before:
    rows_before = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/write_from_options_append/"], "recurse": True}, transformation_ctx="Before").count()
assert rows_before % 482 == 0, rows_before

# Script generated for node Customer Landing
CustomerLanding_node1764160701001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160701001")

# Script generated for node Filter
Filter_node1764160701002 = Filter.apply(frame=CustomerLanding_node1764160701001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764160701002")

# Script generated for node Customer Trusted
CustomerTrusted_node1764160701003 = glueContext.write_dynamic_frame.from_options(frame=Filter_node1764160701002, connection_type="s3", format="json", connection_options={"path": "s3://stedi-studio-lake/behaviours/write_from_options_append/", "partitionKeys": []}, transformation_ctx="CustomerTrusted_node1764160701003")

after = part_files()
assert set(before) < set(after), (before, after)  # nothing replaced, new files added
assert all(key.rsplit("/", 1)[1].startswith("run-") and "-part-r-" in key for key in after), after
rows_after = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/write_from_options_append/"], "recurse": True}, transformation_ctx="After").count()
assert rows_after == rows_before + 482, (rows_before, rows_after)
print(f"write_from_options_append: {rows_before} -> {rows_after} customers")
job.commit()
