# Behaviour: Studio's generated "Aggregate" node, a helper over toDF() and pyspark's functions
# (plain Spark: nothing of the layer but fromDF/toDF): readings per device and their mean distance.
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue import DynamicFrame
from pyspark.sql import functions as SqlFuncs

def sparkAggregate(glueContext, parentFrame, groups, aggs, transformation_ctx) -> DynamicFrame:
    aggsFuncs = []
    for column, func in aggs:
        aggsFuncs.append(getattr(SqlFuncs, func)(column))
    result = parentFrame.toDF().groupBy(*groups).agg(*aggsFuncs) if len(groups) > 0 else parentFrame.toDF().agg(*aggsFuncs)
    return DynamicFrame.fromDF(result, glueContext, transformation_ctx)

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764163001001 = glueContext.create_dynamic_frame.from_options(format_options={"multiLine": "false"}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764163001001")

# Script generated for node Aggregate
Aggregate_node1764163001002 = sparkAggregate(glueContext, parentFrame = StepTrainerLanding_node1764163001001, groups = ["serialNumber"], aggs = [["sensorReadingTime", "count"], ["distanceFromObject", "avg"]], transformation_ctx = "Aggregate_node1764163001002")

rows = Aggregate_node1764163001002.toDF().collect()
assert Aggregate_node1764163001002.count() == len(rows) > 0
assert sum(r["count(sensorReadingTime)"] for r in rows) == 28680
print(f"spark_aggregate: {len(rows)} devices, {sum(r['count(sensorReadingTime)'] for r in rows)} readings")
job.commit()
