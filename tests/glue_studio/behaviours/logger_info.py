# Behaviour: glueContext.get_logger(): info, warn and error lines go to the run's progress (on AWS,
# to CloudWatch). The test looks for "log: customer landing holds 956 records" on stderr.
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
logger = glueContext.get_logger()

# Script generated for node Customer Landing
CustomerLanding_node1764160901001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160901001")

logger.info(f"customer landing holds {CustomerLanding_node1764160901001.count()} records")
logger.warn("this is a warning line")
logger.error("this is an error line (the job goes on)")
assert glueContext.get_logger() is logger or glueContext.get_logger() is not None
job.commit()
