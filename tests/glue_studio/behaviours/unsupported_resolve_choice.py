# Behaviour: a transform the local layer does not run. Expected to fail with the sentence
# "awsglue.transforms.ResolveChoice is not supported locally by `stedi glue run` ...".
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

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764161301001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764161301001")

# Script generated for node Resolve Choice
ResolveChoice_node1764161301002 = ResolveChoice.apply(frame=StepTrainerLanding_node1764161301001, choice="make_cols", transformation_ctx="ResolveChoice_node1764161301002")
job.commit()
