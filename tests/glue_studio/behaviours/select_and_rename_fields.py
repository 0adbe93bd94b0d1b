# Behaviour: SelectFields and RenameField (as transforms and as DynamicFrame methods). Field names
# are case-sensitive here; a renamed field keeps its absences (a Filter on the new name still drops
# the customers who never consented).
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
CustomerLanding_node1764161001001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161001001")

# Script generated for node Select Fields
SelectFields_node1764161001002 = SelectFields.apply(frame=CustomerLanding_node1764161001001, paths=["serialNumber", "email", "shareWithResearchAsOfDate"], transformation_ctx="SelectFields_node1764161001002")
assert SelectFields_node1764161001002.toDF().columns == ["email", "serialNumber", "shareWithResearchAsOfDate"], SelectFields_node1764161001002.toDF().columns  # the frame's order
assert SelectFields_node1764161001002.count() == 956

# A name in another case names no field: it is skipped (with a warning), not an error.
lower = SelectFields.apply(frame=CustomerLanding_node1764161001001, paths=["serialnumber", "email"], transformation_ctx="SelectLower")
assert lower.toDF().columns == ["email"], lower.toDF().columns

# Script generated for node Rename Field
RenameField_node1764161001003 = RenameField.apply(frame=SelectFields_node1764161001002, old_name="shareWithResearchAsOfDate", new_name="researchConsentDate", transformation_ctx="RenameField_node1764161001003")
assert RenameField_node1764161001003.toDF().columns == ["email", "serialNumber", "researchConsentDate"], RenameField_node1764161001003.toDF().columns
consented = Filter.apply(frame=RenameField_node1764161001003, f=lambda row: (not (row["researchConsentDate"] == 0)), transformation_ctx="Consented")
assert consented.count() == 482, consented.count()

# The DynamicFrame methods of the same meaning.
renamed = CustomerLanding_node1764161001001.rename_field("serialNumber", "serial_number").select_fields(["serial_number", "customerName"])
assert renamed.toDF().columns == ["customerName", "serial_number"], renamed.toDF().columns
assert renamed.toDF().where("serial_number is null").count() == 0
job.commit()
