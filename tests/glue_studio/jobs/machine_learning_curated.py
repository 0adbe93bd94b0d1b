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

# Script generated for node Accelerometer Trusted
AccelerometerTrusted_node1764156002741 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="accelerometer_trusted", transformation_ctx="AccelerometerTrusted_node1764156002741")

# Script generated for node Step Trainer Trusted
StepTrainerTrusted_node1764156019388 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="step_trainer_trusted", transformation_ctx="StepTrainerTrusted_node1764156019388")

# Script generated for node Readings At The Same Time
SqlQuery2981 = '''
select * from step_trainer_trusted s
join accelerometer_trusted a on s.sensorreadingtime = a.timestamp
'''
ReadingsAtTheSameTime_node1764156088215 = sparkSqlQuery(glueContext, query = SqlQuery2981, mapping = {"accelerometer_trusted":AccelerometerTrusted_node1764156002741, "step_trainer_trusted":StepTrainerTrusted_node1764156019388}, transformation_ctx = "ReadingsAtTheSameTime_node1764156088215")

# Script generated for node Machine Learning Curated
EvaluateDataQuality().process_rows(frame=ReadingsAtTheSameTime_node1764156088215, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764155987420", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
MachineLearningCurated_node1764156140563 = glueContext.getSink(path="s3://stedi-studio-lake/machine_learning/curated/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="MachineLearningCurated_node1764156140563")
MachineLearningCurated_node1764156140563.setCatalogInfo(catalogDatabase="stedi",catalogTableName="machine_learning_curated")
MachineLearningCurated_node1764156140563.setFormat("json")
MachineLearningCurated_node1764156140563.writeFrame(ReadingsAtTheSameTime_node1764156088215)
job.commit()
