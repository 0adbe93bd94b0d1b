# Behaviour: a KeyError raised by the script itself (not inside a Filter function) fails the job,
# reported in one sentence naming the script's line:
# "key_error_outside_filter.py, line 24: KeyError: 'sharewithresearchasofdate'".
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
CustomerLanding_node1764161701001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161701001")

# A learner's check of the first customer, with the catalog's lower-case name: the record's keys
# are the file's camelCase ones.
first = CustomerLanding_node1764161701001.toDF().first().asDict()
print("first customer consented at", first["sharewithresearchasofdate"])

job.commit()
