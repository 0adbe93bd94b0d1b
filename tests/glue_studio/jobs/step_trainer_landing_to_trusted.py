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

# Default ruleset used by all target nodes with data quality enabled
DEFAULT_DATA_QUALITY_RULESET = """
    Rules = [
        ColumnCount > 0
    ]
"""

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764154803370 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764154803370")

# Script generated for node Customers Curated
CustomersCurated_node1764154822658 = glueContext.create_dynamic_frame.from_catalog(database="stedi", table_name="customers_curated", transformation_ctx="CustomersCurated_node1764154822658")

# Script generated for node Renamed keys for Join
RenamedkeysforJoin_node1764154880134 = ApplyMapping.apply(frame=CustomersCurated_node1764154822658, mappings=[("customerName", "string", "`(right) customerName`", "string"), ("email", "string", "`(right) email`", "string"), ("phone", "string", "`(right) phone`", "string"), ("birthDay", "string", "`(right) birthDay`", "string"), ("serialNumber", "string", "`(right) serialNumber`", "string"), ("registrationDate", "long", "`(right) registrationDate`", "long"), ("lastUpdateDate", "long", "`(right) lastUpdateDate`", "long"), ("shareWithResearchAsOfDate", "long", "`(right) shareWithResearchAsOfDate`", "long"), ("shareWithPublicAsOfDate", "long", "`(right) shareWithPublicAsOfDate`", "long"), ("shareWithFriendsAsOfDate", "long", "`(right) shareWithFriendsAsOfDate`", "long")], transformation_ctx="RenamedkeysforJoin_node1764154880134")

# Script generated for node Join
Join_node1764154911520 = Join.apply(frame1=StepTrainerLanding_node1764154803370, frame2=RenamedkeysforJoin_node1764154880134, keys1=["serialNumber"], keys2=["`(right) serialNumber`"], transformation_ctx="Join_node1764154911520")

# Script generated for node Drop Fields
DropFields_node1764154950771 = DropFields.apply(frame=Join_node1764154911520, paths=["`(right) customerName`", "`(right) email`", "`(right) phone`", "`(right) birthDay`", "`(right) serialNumber`", "`(right) registrationDate`", "`(right) lastUpdateDate`", "`(right) shareWithResearchAsOfDate`", "`(right) shareWithPublicAsOfDate`", "`(right) shareWithFriendsAsOfDate`"], transformation_ctx="DropFields_node1764154950771")

# Script generated for node Step Trainer Trusted
EvaluateDataQuality().process_rows(frame=DropFields_node1764154950771, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764154790652", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
StepTrainerTrusted_node1764154998127 = glueContext.getSink(path="s3://stedi-studio-lake/step_trainer/trusted/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[], enableUpdateCatalog=True, transformation_ctx="StepTrainerTrusted_node1764154998127")
StepTrainerTrusted_node1764154998127.setCatalogInfo(catalogDatabase="stedi",catalogTableName="step_trainer_trusted")
StepTrainerTrusted_node1764154998127.setFormat("json")
StepTrainerTrusted_node1764154998127.writeFrame(DropFields_node1764154950771)
job.commit()
