# Behaviour: ApplyMapping matches source names ignoring case (unless case_sensitive=True), renames,
# and casts (a string of digits to int; a value that does not fit becomes null, as in Glue); fields
# not mapped are left out; the absences of the mapped fields are kept.
import sys
import json
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/apply_mapping_case_and_cast/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def stage_input():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    lines = [{"deviceId": "17", "reading": "230", "label": "a"},
             {"deviceId": "18", "reading": "not a number", "label": "b"},
             {"deviceId": "19", "label": "c"}]
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "devices.json", Body="\n".join(json.dumps(x) for x in lines).encode())

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
stage_input()

# Script generated for node Devices
Devices_node1764161101001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/apply_mapping_case_and_cast/"], "recurse": True}, transformation_ctx="Devices_node1764161101001")

# Script generated for node Change Schema
ChangeSchema_node1764161101002 = ApplyMapping.apply(frame=Devices_node1764161101001, mappings=[("DEVICEID", "string", "device_id", "int"), ("Reading", "string", "reading", "int")], transformation_ctx="ChangeSchema_node1764161101002")
df = ChangeSchema_node1764161101002.toDF()
assert df.columns == ["device_id", "reading"], df.columns  # label was not mapped
assert [f.dataType.simpleString() for f in df.schema.fields] == ["int", "int"], df.schema
rows = sorted((r["device_id"], r["reading"]) for r in df.collect())
assert rows == [(17, 230), (18, None), (19, None)], rows
# Device 19 had no reading: still absent after the mapping (dropped by the Filter), device 18's is a null.
has_reading = Filter.apply(frame=ChangeSchema_node1764161101002, f=lambda row: "reading" in row)
assert sorted(r["device_id"] for r in has_reading.toDF().collect()) == [17, 18]

# case_sensitive=True: the upper-case source names no field; that mapping is left out.
strict = ApplyMapping.apply(frame=Devices_node1764161101001, mappings=[("DEVICEID", "string", "device_id", "int"), ("label", "string", "label", "string")], case_sensitive=True, transformation_ctx="Strict")
assert strict.toDF().columns == ["label"], strict.toDF().columns

# Script generated for node Customer Landing
CustomerLanding_node1764161101003 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161101003")

# The lower-case names a catalog shows match the files' camelCase keys; string phone numbers cast.
Customers_node1764161101004 = ApplyMapping.apply(frame=CustomerLanding_node1764161101003, mappings=[("serialnumber", "string", "serialNumber", "string"), ("sharewithresearchasofdate", "long", "shareWithResearchAsOfDate", "long"), ("phone", "string", "phone", "long"), ("phone", "string", "phone_int", "int")], transformation_ctx="Customers_node1764161101004")
customers = Customers_node1764161101004.toDF()
assert customers.columns == ["serialNumber", "shareWithResearchAsOfDate", "phone", "phone_int"], customers.columns
assert customers.where("serialNumber is null").count() == 0
assert customers.where("phone = 8015551212").count() == 956, customers.select("phone").distinct().collect()
assert customers.where("phone_int is not null").count() == 0  # 8015551212 does not fit an int
consented = Filter.apply(frame=Customers_node1764161101004, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)))
assert consented.count() == 482, consented.count()
job.commit()
