# Behaviour: a transform the local layer does not run. Expected to fail with the sentence
# "awsglue.transforms.Relationalize is not supported locally by `stedi glue run` ...".
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
CustomerLanding_node1764161401001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161401001")

# Script generated for node Relationalize
Relationalize_node1764161401002 = Relationalize.apply(frame=CustomerLanding_node1764161401001, staging_path="s3://stedi-studio-lake/behaviours/unsupported_relationalize/temp/", name="root", transformation_ctx="Relationalize_node1764161401002")
job.commit()
