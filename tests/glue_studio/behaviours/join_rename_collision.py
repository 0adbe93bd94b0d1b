# Behaviour: a second Join in which both frames have serialNumber while frame1 already holds
# `.serialNumber` from an earlier same-name Join. Renaming frame1's copy would make two fields of
# one name; the local layer refuses in one sentence that says to drop `.serialNumber` first (its
# decision, stedi/studio/frames.py; what Glue does here is not published). Expected to fail with
# "both frames have 'serialNumber', and frame1's copy would be renamed `.serialNumber`".
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
CustomerLanding_node1764162401001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764162401001")

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764162401002 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764162401002")

# Script generated for node Join
Join_node1764162401003 = Join.apply(frame1=CustomerLanding_node1764162401001, frame2=StepTrainerLanding_node1764162401002, keys1=["serialNumber"], keys2=["serialNumber"], transformation_ctx="Join_node1764162401003")

# Script generated for node Join Again
JoinAgain_node1764162401004 = Join.apply(frame1=Join_node1764162401003, frame2=CustomerLanding_node1764162401001, keys1=["email"], keys2=["email"], transformation_ctx="JoinAgain_node1764162401004")
job.commit()
