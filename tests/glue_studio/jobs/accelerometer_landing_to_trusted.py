import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsgluedq.transforms import EvaluateDataQuality
from awsglue import DynamicFrame

def sparkSqlQuery(glueContext, query, mapping, transformation_ctx) -> DynamicFrame:
    for alias, frame in mapping.items():
        frame.toDF().createOrReplaceTempView(alias)
    result = spark.sql(query)
    return DynamicFrame.fromDF(result, glueContext, transformation_ctx)
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

# Script generated for node Accelerometer Landing
AccelerometerLanding_node1764152400318 = glueContext.create_dynamic_frame.from_options(format_options={"multiLine": "false"}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/accelerometer/landing/"], "recurse": True}, transformation_ctx="AccelerometerLanding_node1764152400318")

# Script generated for node Customer Trusted
CustomerTrusted_node1764152433907 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="customer_trusted", transformation_ctx="CustomerTrusted_node1764152433907")

# Script generated for node Customer Privacy Join
CustomerPrivacyJoin_node1764152489260 = Join.apply(frame1=AccelerometerLanding_node1764152400318, frame2=CustomerTrusted_node1764152433907, keys1=["user"], keys2=["email"], transformation_ctx="CustomerPrivacyJoin_node1764152489260")

# Script generated for node Accelerometer Columns
SqlQuery1207 = '''
select user, timestamp, x, y, z from myDataSource
'''
AccelerometerColumns_node1764152551846 = sparkSqlQuery(glueContext, query = SqlQuery1207, mapping = {"myDataSource":CustomerPrivacyJoin_node1764152489260}, transformation_ctx = "AccelerometerColumns_node1764152551846")

# Script generated for node Accelerometer Trusted
EvaluateDataQuality().process_rows(frame=AccelerometerColumns_node1764152551846, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764152382511", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
AccelerometerTrusted_node1764152602433 = glueContext.getSink(path="s3://stedi-studio-lake/accelerometer/trusted/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="AccelerometerTrusted_node1764152602433")
AccelerometerTrusted_node1764152602433.setCatalogInfo(catalogDatabase="stedi",catalogTableName="accelerometer_trusted")
AccelerometerTrusted_node1764152602433.setFormat("json")
AccelerometerTrusted_node1764152602433.writeFrame(AccelerometerColumns_node1764152551846)
job.commit()
