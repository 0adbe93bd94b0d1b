# Behaviour: a required option that is not given. Expected to fail, as on AWS Glue, with
# GlueArgumentError's sentence: "the following arguments are required: --TARGET_DATABASE".
#   stedi glue run tests/glue_studio/behaviours/resolved_options_missing.py
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ['JOB_NAME', 'TARGET_DATABASE'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

raise AssertionError("getResolvedOptions should have refused the missing --TARGET_DATABASE")
