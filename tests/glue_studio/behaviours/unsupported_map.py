# Behaviour: a transform the local layer does not run. Expected to fail with the sentence
# "awsglue.transforms.Map is not supported locally by `stedi glue run` ...".
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
CustomerLanding_node1764161501001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161501001")

def mask_email(record):
    record["email"] = "***"
    return record

# Script generated for node Custom Map
CustomMap_node1764161501002 = Map.apply(frame=CustomerLanding_node1764161501001, f=mask_email, transformation_ctx="CustomMap_node1764161501002")
job.commit()
