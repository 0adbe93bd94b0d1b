# Behaviour: getSink(..., compression="gzip" | "snappy") with setFormat("json"): compressed part
# files (.gz, .snappy) and a JSON table over them; both read back whole, from S3 and from the catalog.
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsgluedq.transforms import EvaluateDataQuality

BASE = "s3://stedi-studio-lake/behaviours/compressed_json_sinks/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)
TABLES = ("behaviour_customer_trusted_gzip", "behaviour_customer_trusted_snappy")

def clear():
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    glue = boto3.client("glue")
    for name in TABLES:
        try:
            glue.delete_table(DatabaseName="stedi", Name=name)
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

# Default ruleset used by all target nodes with data quality enabled
DEFAULT_DATA_QUALITY_RULESET = """
    Rules = [
        ColumnCount > 0
    ]
"""

# Script generated for node Customer Landing
CustomerLanding_node1764160401001 = glueContext.create_dynamic_frame.from_options(format_options={"multiLine": "false"}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160401001")

# Script generated for node Filter
Filter_node1764160401002 = Filter.apply(frame=CustomerLanding_node1764160401001, f=lambda row: (not(row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764160401002")

# Script generated for node Trusted Gzip
EvaluateDataQuality().process_rows(frame=Filter_node1764160401002, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764160400999", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
TrustedGzip_node1764160401003 = glueContext.getSink(path="s3://stedi-studio-lake/behaviours/compressed_json_sinks/gzip/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], compression="gzip", enableUpdateCatalog=True, transformation_ctx="TrustedGzip_node1764160401003")
TrustedGzip_node1764160401003.setCatalogInfo(catalogDatabase="stedi",catalogTableName="behaviour_customer_trusted_gzip")
TrustedGzip_node1764160401003.setFormat("json")
TrustedGzip_node1764160401003.writeFrame(Filter_node1764160401002)

# Script generated for node Trusted Snappy
EvaluateDataQuality().process_rows(frame=Filter_node1764160401002, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764160400999", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
TrustedSnappy_node1764160401004 = glueContext.getSink(path="s3://stedi-studio-lake/behaviours/compressed_json_sinks/snappy/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], compression="snappy", enableUpdateCatalog=True, transformation_ctx="TrustedSnappy_node1764160401004")
TrustedSnappy_node1764160401004.setCatalogInfo(catalogDatabase="stedi",catalogTableName="behaviour_customer_trusted_snappy")
TrustedSnappy_node1764160401004.setFormat("json")
TrustedSnappy_node1764160401004.writeFrame(Filter_node1764160401002)

# Script generated for node Amazon S3 (compression set in the S3 target node)
AmazonS3_node1764160401005 = glueContext.write_dynamic_frame.from_options(frame=Filter_node1764160401002, connection_type="s3", format="json", connection_options={"path": "s3://stedi-studio-lake/behaviours/compressed_json_sinks/options_gzip/", "compression": "gzip", "partitionKeys": []}, transformation_ctx="AmazonS3_node1764160401005")

gzip_keys, snappy_keys = keys("gzip/") + keys("options_gzip/"), keys("snappy/")
assert gzip_keys and all(k.endswith(".gz") and "/run-" in k for k in gzip_keys), gzip_keys
assert snappy_keys and all(k.endswith(".snappy") and "/run-" in k for k in snappy_keys), snappy_keys
glue = boto3.client("glue")
for name in TABLES:
    descriptor = glue.get_table(DatabaseName="stedi", Name=name)["Table"]["StorageDescriptor"]
    assert descriptor["Compressed"] is True, descriptor
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe", descriptor

# Read back from S3 (the codec is told by the file names) and from the catalog.
for codec in ("gzip", "snappy", "options_gzip"):
    back = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": [BASE + codec + "/"], "recurse": True}, transformation_ctx="Back" + codec)
    assert back.count() == 482, (codec, back.count())
    assert back.toDF().columns == CustomerLanding_node1764160401001.toDF().columns, back.toDF().columns
for codec in ("gzip", "snappy"):
    again = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="behaviour_customer_trusted_" + codec, transformation_ctx="Catalog" + codec)
    assert again.count() == 482, (codec, again.count())
job.commit()
