# Behaviour: a Filter over the result of a Join of two frames sharing a field name, before the
# Drop Fields node removes frame1's `.serialNumber`: a record's keys may hold dots (Spark's Python
# functions cannot take such a column name as it is, so the layer hands them over by position).
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Customer Landing
CustomerLanding_node1764162101001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764162101001")

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764162101002 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764162101002")

# Script generated for node Join
Join_node1764162101003 = Join.apply(frame1=CustomerLanding_node1764162101001, frame2=StepTrainerLanding_node1764162101002, keys1=["serialNumber"], keys2=["serialNumber"], transformation_ctx="Join_node1764162101003")

# Script generated for node Filter
Filter_node1764162101004 = Filter.apply(frame=Join_node1764162101003, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764162101004")
assert Filter_node1764162101004.count() == 14460, Filter_node1764162101004.count()

# Script generated for node Drop Fields
DropFields_node1764162101005 = DropFields.apply(frame=Filter_node1764162101004, paths=["customerName", "email", "phone", "birthDay", "`.serialNumber`", "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"], transformation_ctx="DropFields_node1764162101005")
assert DropFields_node1764162101005.toDF().columns == ["sensorReadingTime", "serialNumber", "distanceFromObject"]
job.commit()
