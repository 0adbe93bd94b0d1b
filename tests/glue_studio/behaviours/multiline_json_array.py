# Behaviour: format_options {"multiline": True}: a file holding a JSON array of objects, and a file
# holding one object spread over several lines, read record by record.
import sys
import json
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/multiline_json_array/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def stage_input():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    readings = [
        {"sensorReadingTime": 1655564444103, "serialNumber": "a-1", "distanceFromObject": 218},
        {"sensorReadingTime": 1655564440170, "serialNumber": "a-1", "distanceFromObject": 230},
        {"sensorReadingTime": 1655564448000, "serialNumber": "b-2"},
    ]
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "input/readings-array.json", Body=json.dumps(readings, indent=2).encode())
    one = {"sensorReadingTime": 1655564450000, "serialNumber": "c-3", "distanceFromObject": 7}
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "input/nested/reading-object.json", Body=json.dumps(one, indent=4).encode())

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
stage_input()

# Script generated for node Readings
Readings_node1764160301001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": True}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/multiline_json_array/input/"], "recurse": True}, transformation_ctx="Readings_node1764160301001")
assert Readings_node1764160301001.count() == 4, Readings_node1764160301001.count()
assert Readings_node1764160301001.toDF().columns == ["sensorReadingTime", "serialNumber", "distanceFromObject"]
# The third element has no distanceFromObject: absent, so a Filter that reads it drops it.
with_distance = Filter.apply(frame=Readings_node1764160301001, f=lambda row: row["distanceFromObject"] >= 0)
assert with_distance.count() == 3, with_distance.count()

# Without recurse the sub-folder's file is not read.
Top_node1764160301002 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": True}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/multiline_json_array/input/"]}, transformation_ctx="Top_node1764160301002")
assert Top_node1764160301002.count() == 3, Top_node1764160301002.count()

# Read line by line ({"multiline": False}) the pretty-printed array is no record at all.
Lines_node1764160301003 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/multiline_json_array/input/readings-array.json"]}, transformation_ctx="Lines_node1764160301003")
assert Lines_node1764160301003.count() == 0, Lines_node1764160301003.count()
job.commit()
