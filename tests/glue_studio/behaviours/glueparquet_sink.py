# Behaviour: a glueparquet sink (setFormat("glueparquet", compression="snappy")) makes a Parquet
# table; write_dynamic_frame.from_options(format="glueparquet") writes Parquet too; both read back
# with format="parquet" and from the catalog.
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/glueparquet_sink/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)
TABLE = "behaviour_step_trainer_parquet"

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

def keys(prefix):
    s3 = boto3.client("s3")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + prefix).get("Contents", [])]

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
clear()

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764160501001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764160501001")

# Script generated for node Step Trainer Parquet
StepTrainerParquet_node1764160501002 = glueContext.getSink(path="s3://stedi-studio-lake/behaviours/glueparquet_sink/sink/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="StepTrainerParquet_node1764160501002")
StepTrainerParquet_node1764160501002.setCatalogInfo(catalogDatabase="stedi",catalogTableName="behaviour_step_trainer_parquet")
StepTrainerParquet_node1764160501002.setFormat("glueparquet", compression="snappy")
StepTrainerParquet_node1764160501002.writeFrame(StepTrainerLanding_node1764160501001)

# Script generated for node Amazon S3
AmazonS3_node1764160501003 = glueContext.write_dynamic_frame.from_options(frame=StepTrainerLanding_node1764160501001, connection_type="s3", format="glueparquet", connection_options={"path": "s3://stedi-studio-lake/behaviours/glueparquet_sink/options/", "partitionKeys": []}, format_options={"compression": "snappy"}, transformation_ctx="AmazonS3_node1764160501003")

for prefix in ("sink/", "options/"):
    written = keys(prefix)
    assert written and all(k.endswith("-snappy.parquet") for k in written), written

table = boto3.client("glue").get_table(DatabaseName="stedi", Name=TABLE)["Table"]
assert table["Parameters"]["classification"] == "parquet", table["Parameters"]
assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
assert columns == [("sensorreadingtime", "bigint"), ("serialnumber", "string"), ("distancefromobject", "int")], columns

# Script generated for node Parquet Read
ParquetRead_node1764160501004 = glueContext.create_dynamic_frame.from_options(format_options={}, connection_type="s3", format="parquet", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/glueparquet_sink/"], "recurse": True}, transformation_ctx="ParquetRead_node1764160501004")
assert ParquetRead_node1764160501004.count() == 2 * 28680, ParquetRead_node1764160501004.count()
df = ParquetRead_node1764160501004.toDF()
assert df.columns == ["sensorReadingTime", "serialNumber", "distanceFromObject"], df.columns
assert [f.dataType.simpleString() for f in df.schema.fields] == ["bigint", "string", "int"], df.schema

# Script generated for node Parquet Table
ParquetTable_node1764160501005 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="behaviour_step_trainer_parquet", transformation_ctx="ParquetTable_node1764160501005")
assert ParquetTable_node1764160501005.count() == 28680, ParquetTable_node1764160501005.count()
job.commit()
