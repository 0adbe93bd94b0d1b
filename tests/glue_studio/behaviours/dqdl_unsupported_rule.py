# Behaviour: a Data Quality ruleset with a rule the local layer does not evaluate. Expected to fail
# naming the rule: "DQDL rule Mean is not evaluated locally by `stedi glue run` ...", before the sink
# writes anything.
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsgluedq.transforms import EvaluateDataQuality

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Ruleset edited in the Data Quality node
DEFAULT_DATA_QUALITY_RULESET = """
    Rules = [
        ColumnCount > 0,
        Mean "x" > 0
    ]
"""

# Script generated for node Accelerometer Landing
AccelerometerLanding_node1764161601001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/accelerometer/landing/"], "recurse": True}, transformation_ctx="AccelerometerLanding_node1764161601001")

# Script generated for node Amazon S3
EvaluateDataQuality().process_rows(frame=AccelerometerLanding_node1764161601001, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764161600999", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
AmazonS3_node1764161601002 = glueContext.write_dynamic_frame.from_options(frame=AccelerometerLanding_node1764161601001, connection_type="s3", format="json", connection_options={"path": "s3://stedi-studio-lake/behaviours/dqdl_unsupported_rule/", "partitionKeys": []}, transformation_ctx="AmazonS3_node1764161601002")
job.commit()
