# Behaviour: JSON read as Glue reads it: fields in the order they appear in the files (Spark would
# sort them by name), whole numbers that fit 32 bits typed `int` (Spark makes them all bigint), and
# a sink's table with lower-case names and Hive types (distancefromobject int, sensorreadingtime bigint).
import sys
import io
import contextlib
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/json_types_and_order/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)
TABLE = "behaviour_json_types_and_order"

def schema_of(frame):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        frame.printSchema()
    return out.getvalue()

def clear():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    glue = boto3.client("glue")
    try:
        glue.delete_table(DatabaseName="stedi", Name=TABLE)
    except glue.exceptions.EntityNotFoundException:
        pass

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
clear()

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764160201001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764160201001")

# Script generated for node Accelerometer Landing
AccelerometerLanding_node1764160201002 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/accelerometer/landing/"], "recurse": True}, transformation_ctx="AccelerometerLanding_node1764160201002")

# Script generated for node Customer Landing
CustomerLanding_node1764160201003 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160201003")

step_schema = schema_of(StepTrainerLanding_node1764160201001)
print(step_schema)
assert step_schema.splitlines() == [
    "root",
    "|-- sensorReadingTime: long",
    "|-- serialNumber: string",
    "|-- distanceFromObject: int",
], step_schema

accelerometer_schema = schema_of(AccelerometerLanding_node1764160201002)
assert accelerometer_schema.splitlines() == [
    "root", "|-- user: string", "|-- timestamp: long", "|-- x: double", "|-- y: double", "|-- z: double",
], accelerometer_schema

customer_schema = schema_of(CustomerLanding_node1764160201003)
assert [line.split(": ")[0].removeprefix("|-- ") for line in customer_schema.splitlines()[1:]] == [
    "customerName", "email", "phone", "birthDay", "serialNumber", "registrationDate", "lastUpdateDate",
    "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate",
], customer_schema
assert "|-- registrationDate: long" in customer_schema and "|-- phone: string" in customer_schema, customer_schema

# The DataFrame has the same order and types.
df = StepTrainerLanding_node1764160201001.toDF()
assert df.columns == ["sensorReadingTime", "serialNumber", "distanceFromObject"], df.columns
assert [f.dataType.simpleString() for f in df.schema.fields] == ["bigint", "string", "int"], df.schema

# Script generated for node Step Trainer Sample
StepTrainerSample_node1764160201004 = glueContext.getSink(path="s3://stedi-studio-lake/behaviours/json_types_and_order/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="StepTrainerSample_node1764160201004")
StepTrainerSample_node1764160201004.setCatalogInfo(catalogDatabase="stedi",catalogTableName="behaviour_json_types_and_order")
StepTrainerSample_node1764160201004.setFormat("json")
StepTrainerSample_node1764160201004.writeFrame(StepTrainerLanding_node1764160201001)

table = boto3.client("glue").get_table(DatabaseName="stedi", Name=TABLE)["Table"]
columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
assert columns == [("sensorreadingtime", "bigint"), ("serialnumber", "string"), ("distancefromobject", "int")], columns
assert table["Parameters"]["classification"] == "json", table["Parameters"]
assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
assert table["StorageDescriptor"]["Location"] == BASE, table["StorageDescriptor"]["Location"]

# Reading the sink's table back keeps the files' (camelCase) keys, in the same order and types.
Back_node1764160201005 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="behaviour_json_types_and_order", transformation_ctx="Back_node1764160201005")
assert schema_of(Back_node1764160201005) == step_schema, schema_of(Back_node1764160201005)
assert Back_node1764160201005.count() == 28680
job.commit()
