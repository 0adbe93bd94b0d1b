# Behaviour: getResolvedOptions with the script's own options, written `--KEY VALUE` and `--KEY=VALUE`.
# Run alone (its options are its own):
#   stedi glue run tests/glue_studio/behaviours/resolved_options.py \
#       --SOURCE_PATH s3://stedi-studio-lake/customer/landing/ --MIN_CUSTOMERS=900 --NOT_ASKED_FOR ignored
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ['JOB_NAME', 'SOURCE_PATH', 'MIN_CUSTOMERS'])
assert args['SOURCE_PATH'] == "s3://stedi-studio-lake/customer/landing/", args
assert args['MIN_CUSTOMERS'] == "900", args  # `--KEY=VALUE` works too; every value is a string
assert args['JOB_NAME'] == "resolved_options", args  # the script's name when --JOB_NAME is not given
assert args['JOB_RUN_ID'].startswith("jr_"), args
assert args['job_bookmark_option'] == "job-bookmark-disable", args  # always there, disabled by default
assert 'TempDir' in args, args  # Glue always answers TempDir (None here)
assert 'NOT_ASKED_FOR' not in args, args  # given but not asked for: ignored

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Customer Landing
CustomerLanding_node1764160001001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": [args['SOURCE_PATH']], "recurse": True}, transformation_ctx="CustomerLanding_node1764160001001")

customers = CustomerLanding_node1764160001001.count()
assert customers >= int(args['MIN_CUSTOMERS']), customers
assert customers == 956, customers
job.commit()
