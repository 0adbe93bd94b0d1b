# Behaviour: EvaluateDataQuality().process_rows returns Glue's collection: "ruleOutcomes" (one row
# per rule) and "rowLevelOutcomes" (the rows with their outcome). Studio never reads it; a learner
# who chose "fail the job on failed rules" gets an assert over the rule outcomes, which runs here.
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

# Script generated for node Customer Landing
CustomerLanding_node1764161901001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161901001")

# Script generated for node Filter
Filter_node1764161901002 = Filter.apply(frame=CustomerLanding_node1764161901001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764161901002")

result = EvaluateDataQuality().process_rows(frame=Filter_node1764161901002, ruleset=DEFAULT_DATA_QUALITY_RULESET, publishing_options={"dataQualityEvaluationContext": "EvaluateDataQuality_node1764161900999", "enableDataQualityResultsPublishing": True}, additional_options={"dataQualityResultsPublishing.strategy": "BEST_EFFORT", "observations.scope": "ALL"})
assert sorted(result.keys()) == ["rowLevelOutcomes", "ruleOutcomes"], list(result.keys())
outcomes = result["ruleOutcomes"].toDF().collect()
assert [(o["Rule"], o["Outcome"]) for o in outcomes] == [("ColumnCount > 0", "Passed")], outcomes
assert result["rowLevelOutcomes"].count() == 482

# Rules Studio's ruleset builder offers, evaluated on the trusted customers.
RULES = """
    Rules = [
        RowCount = 482,
        IsComplete "shareWithResearchAsOfDate",
        IsUnique "email",
        ColumnValues "serialNumber" matches "[0-9a-f-]{36}",
        Completeness "shareWithFriendsAsOfDate" > 0.5,
        Completeness "shareWithPublicAsOfDate" >= 0.5,
        RowCount > 1000
    ]
"""
checked = EvaluateDataQuality().process_rows(frame=Filter_node1764161901002, ruleset=RULES, publishing_options={"dataQualityEvaluationContext": "checked"})
outcome = {o["Rule"]: o["Outcome"] for o in checked["ruleOutcomes"].toDF().collect()}
assert outcome == {
    "RowCount = 482": "Passed",
    'IsComplete "shareWithResearchAsOfDate"': "Passed",
    'IsUnique "email"': "Passed",
    'ColumnValues "serialNumber" matches "[0-9a-f-]{36}"': "Passed",
    'Completeness "shareWithFriendsAsOfDate" > 0.5': "Passed",  # 270 of 482
    'Completeness "shareWithPublicAsOfDate" >= 0.5': "Failed",  # 240 of 482
    "RowCount > 1000": "Failed",
}, outcome
# A failed rule fails nothing by itself; the frames go on.
assert Filter_node1764161901002.count() == 482
job.commit()
