# Behaviour: `glueContext.create_dynamic_frame.from_df(...)` appears in hand-written learner scripts
# but is not a Glue API (the API is DynamicFrame.fromDF): AWS Glue fails the job, and so does the
# local layer, with an AttributeError naming from_df.
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

customers = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="customers")
trusted_df = customers.toDF().where("shareWithResearchAsOfDate is not null")
trusted = glueContext.create_dynamic_frame.from_df(trusted_df, glueContext, "trusted")
job.commit()
