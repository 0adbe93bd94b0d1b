# Behaviour: write_dynamic_frame.from_catalog into a table a getSink created: the rows go under the
# table's location, in its format, added to what is there.
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/write_from_catalog/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)
TABLE = "behaviour_write_from_catalog"

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

# Script generated for node Customer Landing
CustomerLanding_node1764160801001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160801001")

# Script generated for node Filter
Filter_node1764160801002 = Filter.apply(frame=CustomerLanding_node1764160801001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764160801002")

# Script generated for node Customer Trusted (creates the table)
CustomerTrusted_node1764160801003 = glueContext.getSink(path="s3://stedi-studio-lake/behaviours/write_from_catalog/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="CustomerTrusted_node1764160801003")
CustomerTrusted_node1764160801003.setCatalogInfo(catalogDatabase="stedi",catalogTableName="behaviour_write_from_catalog")
CustomerTrusted_node1764160801003.setFormat("json")
CustomerTrusted_node1764160801003.writeFrame(Filter_node1764160801002)

# Script generated for node AWS Glue Data Catalog
AWSGlueDataCatalog_node1764160801004 = glueContext.write_dynamic_frame.from_catalog(frame=Filter_node1764160801002, database="stedi", table_name="behaviour_write_from_catalog", transformation_ctx="AWSGlueDataCatalog_node1764160801004")

# Script generated for node AWS Glue Data Catalog (the form with additional_options)
AWSGlueDataCatalog_node1764160801005 = glueContext.write_dynamic_frame.from_catalog(frame=Filter_node1764160801002, database="stedi", table_name="behaviour_write_from_catalog", additional_options={"enableUpdateCatalog": True, "updateBehavior": "UPDATE_IN_DATABASE"}, transformation_ctx="AWSGlueDataCatalog_node1764160801005")

# Script generated for node Read Back
ReadBack_node1764160801006 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="behaviour_write_from_catalog", transformation_ctx="ReadBack_node1764160801006")
assert ReadBack_node1764160801006.count() == 3 * 482, ReadBack_node1764160801006.count()
s3 = boto3.client("s3")
written = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])]
assert written and all(k.startswith(PREFIX + "run-") for k in written), written
table = boto3.client("glue").get_table(DatabaseName="stedi", Name=TABLE)["Table"]
assert table["Parameters"]["classification"] == "json", table["Parameters"]
job.commit()
