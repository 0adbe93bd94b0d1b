# Behaviour: a source that reads no file (an empty folder, or a job bookmark with nothing new)
# gives an empty frame, and a sink writing it writes no rows and the job goes on, as on AWS Glue.
import sys
import boto3
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

BASE = "s3://stedi-studio-lake/behaviours/empty_frame_sink/"
BUCKET, PREFIX = BASE[len("s3://"):].split("/", 1)

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)
s3 = boto3.client("s3")
for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", []):
    s3.delete_object(Bucket=BUCKET, Key=item["Key"])

# Script generated for node Step Trainer Landing (nothing landed yet)
StepTrainerLanding_node1764162301001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/behaviours/empty_frame_sink/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764162301001")
assert StepTrainerLanding_node1764162301001.count() == 0

# Script generated for node Step Trainer Trusted
StepTrainerTrusted_node1764162301002 = glueContext.write_dynamic_frame.from_options(frame=StepTrainerLanding_node1764162301001, connection_type="s3", format="json", connection_options={"path": "s3://stedi-studio-lake/behaviours/empty_frame_sink/trusted/", "partitionKeys": []}, transformation_ctx="StepTrainerTrusted_node1764162301002")
job.commit()
