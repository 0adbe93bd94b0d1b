# Behaviour: format="csv" with Studio's format_options (withHeader, separator, quoteChar).
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/csv_read/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

def stage_input():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    text = ("serialNumber,sensorReadingTime,distanceFromObject,note\n"
            "a-1,1655564444103,218,\"first, with a comma\"\n"
            "a-1,1655564440170,230,plain\n"
            "b-2,1655564448000,12,\n")
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "readings.csv", Body=text.encode())

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
stage_input()

# Script generated for node Readings CSV
ReadingsCSV_node1764160601001 = glueContext.create_dynamic_frame.from_options(format_options={"quoteChar": "\"", "withHeader": True, "separator": ","}, connection_type="s3", format="csv", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/csv_read/"], "recurse": True}, transformation_ctx="ReadingsCSV_node1764160601001")
assert ReadingsCSV_node1764160601001.count() == 3, ReadingsCSV_node1764160601001.count()
df = ReadingsCSV_node1764160601001.toDF()
assert df.columns == ["serialNumber", "sensorReadingTime", "distanceFromObject", "note"], df.columns
rows = sorted(df.collect(), key=lambda r: r["sensorReadingTime"])
assert rows[1]["note"] == "first, with a comma", rows
assert int(rows[1]["distanceFromObject"]) == 218, rows

# ApplyMapping gives the CSV strings the types the course uses.
Typed_node1764160601002 = ApplyMapping.apply(frame=ReadingsCSV_node1764160601001, mappings=[("sensorReadingTime", "string", "sensorReadingTime", "long"), ("serialNumber", "string", "serialNumber", "string"), ("distanceFromObject", "string", "distanceFromObject", "int")], transformation_ctx="Typed_node1764160601002")
typed = Typed_node1764160601002.toDF()
assert [f.dataType.simpleString() for f in typed.schema.fields] == ["bigint", "string", "int"], typed.schema
assert typed.agg({"distanceFromObject": "sum"}).first()[0] == 460

# Without a header the columns are Spark's col0... ; the header line is a row.
NoHeader_node1764160601003 = glueContext.create_dynamic_frame.from_options(format_options={"withHeader": False, "separator": ","}, connection_type="s3", format="csv", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/csv_read/"], "recurse": True}, transformation_ctx="NoHeader_node1764160601003")
assert NoHeader_node1764160601003.count() == 4, NoHeader_node1764160601003.count()
job.commit()
