import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsgluedq.transforms import EvaluateDataQuality
from awsglue.dynamicframe import DynamicFrame
from pyspark.sql import functions as SqlFuncs

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Default ruleset used by all target nodes with data quality enabled
DEFAULT_DATA_QUALITY_RULESET = """
    Rules = [
        ColumnCount > 0
    ]
"""

# Script generated for node Customer Trusted
CustomerTrusted_node1764153601145 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="customer_trusted", transformation_ctx="CustomerTrusted_node1764153601145")

# Script generated for node Accelerometer Trusted
AccelerometerTrusted_node1764153622790 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="accelerometer_trusted", transformation_ctx="AccelerometerTrusted_node1764153622790")

# Script generated for node Join
Join_node1764153660418 = Join.apply(frame1=CustomerTrusted_node1764153601145, frame2=AccelerometerTrusted_node1764153622790, keys1=["email"], keys2=["user"], transformation_ctx="Join_node1764153660418")

# Script generated for node Drop Fields
DropFields_node1764153702361 = DropFields.apply(frame=Join_node1764153660418, paths=["user", "timestamp", "x", "y", "z"], transformation_ctx="DropFields_node1764153702361")

# Script generated for node Drop Duplicates
DropDuplicates_node1764153741954 =  DynamicFrame.fromDF(DropFields_node1764153702361.toDF().dropDuplicates(["email"]), glueContext, "DropDuplicates_node1764153741954")

# Script generated for node Customers Curated
EvaluateDataQuality().process_rows(frame=DropDuplicates_node1764153741954, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764153588806", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
CustomersCurated_node1764153780025 = glueContext.getSink(path="s3://stedi-studio-lake/customer/curated/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="CustomersCurated_node1764153780025")
CustomersCurated_node1764153780025.setCatalogInfo(catalogDatabase="stedi",catalogTableName="customers_curated")
CustomersCurated_node1764153780025.setFormat("glueparquet", compression="snappy")
CustomersCurated_node1764153780025.writeFrame(DropDuplicates_node1764153741954)
job.commit()
