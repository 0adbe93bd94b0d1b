# Behaviour: a from_catalog source over a landing table registered with the learner's Athena DDL
# (tests/glue_studio/athena/customer_landing.sql, run first with `stedi query --file`). The frame
# has the files' camelCase keys, so the course's Filter keeps 482; Spark SQL's lower-case names
# agree (it is case-insensitive).
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
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

# Script generated for node Customer Landing
CustomerLanding_node1764162001001 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="customer_landing", transformation_ctx="CustomerLanding_node1764162001001")
assert CustomerLanding_node1764162001001.count() == 956
assert "shareWithResearchAsOfDate" in CustomerLanding_node1764162001001.toDF().columns, CustomerLanding_node1764162001001.toDF().columns

# Script generated for node Filter
Filter_node1764162001002 = Filter.apply(frame=CustomerLanding_node1764162001001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764162001002")
assert Filter_node1764162001002.count() == 482, Filter_node1764162001002.count()

# Script generated for node SQL Query
SqlQuery0 = '''
select * from myDataSource where sharewithresearchasofdate is not null
'''
SQLQuery_node1764162001003 = sparkSqlQuery(glueContext, query = SqlQuery0, mapping = {"myDataSource":CustomerLanding_node1764162001001}, transformation_ctx = "SQLQuery_node1764162001003")
assert SQLQuery_node1764162001003.count() == 482

# Script generated for node Accelerometer Landing
AccelerometerLanding_node1764162001004 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="accelerometer_landing", transformation_ctx="AccelerometerLanding_node1764162001004")
assert AccelerometerLanding_node1764162001004.count() == 81273

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764162001005 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="step_trainer_landing", transformation_ctx="StepTrainerLanding_node1764162001005")
assert StepTrainerLanding_node1764162001005.count() == 28680
job.commit()
