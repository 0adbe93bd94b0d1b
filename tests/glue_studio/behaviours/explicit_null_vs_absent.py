# Behaviour: an explicit JSON null is a present key whose value is None; an absent key is no key.
# This is the layer's decision (stedi/studio/records.py, NULL_IS_ABSENT = False; Glue does not
# document it): change this script's expectations together with that setting.
import sys
import json
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/explicit_null_vs_absent/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def stage_input():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    lines = [{"email": "given@test.com", "shareWithResearchAsOfDate": 1655564376361},
             {"email": "null@test.com", "shareWithResearchAsOfDate": None},
             {"email": "absent@test.com"}]
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "customers.json", Body="\n".join(json.dumps(x) for x in lines).encode())

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
stage_input()

# Script generated for node Customers
Customers_node1764162201001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/explicit_null_vs_absent/"], "recurse": True}, transformation_ctx="Customers_node1764162201001")
records = {r["email"]: r for r in Customers_node1764162201001.records()}
assert records["null@test.com"] == {"email": "null@test.com", "shareWithResearchAsOfDate": None}, records
assert records["absent@test.com"] == {"email": "absent@test.com"}, records

# Script generated for node Filter
Filter_node1764162201002 = Filter.apply(frame=Customers_node1764162201001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764162201002")
kept = sorted(r["email"] for r in Filter_node1764162201002.toDF().collect())
assert kept == ["given@test.com", "null@test.com"], kept  # the null is kept: None == 0 is False

# Spark SQL sees both as NULL.
assert Customers_node1764162201001.toDF().where("sharewithresearchasofdate is null").count() == 2
job.commit()
