# Behaviour: Join.apply of two frames that both have a field of the same name (serialNumber):
# frame1's copy becomes `.serialNumber`, which Studio's Drop Fields node then names with back-quotes.
# Also the "Renamed keys for Join" form, where a field becomes `(right) serialNumber`.
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
CustomerLanding_node1764161801001 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764161801001")

# Script generated for node Step Trainer Landing
StepTrainerLanding_node1764161801002 = glueContext.create_dynamic_frame.from_options(format_options={"multiline": False}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/step_trainer/landing/"], "recurse": True}, transformation_ctx="StepTrainerLanding_node1764161801002")

# Script generated for node Customer Filter
CustomerFilter_node1764161801003 = Filter.apply(frame=CustomerLanding_node1764161801001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="CustomerFilter_node1764161801003")

# Script generated for node Join
Join_node1764161801004 = Join.apply(frame1=CustomerFilter_node1764161801003, frame2=StepTrainerLanding_node1764161801002, keys1=["serialNumber"], keys2=["serialNumber"], transformation_ctx="Join_node1764161801004")
joined = Join_node1764161801004.toDF().columns
assert ".serialNumber" in joined and "serialNumber" in joined, joined
assert joined[:5] == ["customerName", "email", "phone", "birthDay", ".serialNumber"], joined  # frame1's fields first
assert Join_node1764161801004.count() == 14460, Join_node1764161801004.count()

# Script generated for node Drop Fields
DropFields_node1764161801005 = DropFields.apply(frame=Join_node1764161801004, paths=["customerName", "email", "phone", "birthDay", "`.serialNumber`", "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"], transformation_ctx="DropFields_node1764161801005")
assert DropFields_node1764161801005.toDF().columns == ["sensorReadingTime", "serialNumber", "distanceFromObject"], DropFields_node1764161801005.toDF().columns
assert DropFields_node1764161801005.count() == 14460

# Script generated for node Renamed keys for Join
RenamedkeysforJoin_node1764161801006 = ApplyMapping.apply(frame=StepTrainerLanding_node1764161801002, mappings=[("sensorReadingTime", "long", "`(right) sensorReadingTime`", "long"), ("serialNumber", "string", "`(right) serialNumber`", "string"), ("distanceFromObject", "int", "`(right) distanceFromObject`", "int")], transformation_ctx="RenamedkeysforJoin_node1764161801006")
assert RenamedkeysforJoin_node1764161801006.toDF().columns == ["(right) sensorReadingTime", "(right) serialNumber", "(right) distanceFromObject"], RenamedkeysforJoin_node1764161801006.toDF().columns

# Script generated for node Join Renamed
JoinRenamed_node1764161801007 = Join.apply(frame1=CustomerFilter_node1764161801003, frame2=RenamedkeysforJoin_node1764161801006, keys1=["serialNumber"], keys2=["`(right) serialNumber`"], transformation_ctx="JoinRenamed_node1764161801007")
assert ".serialNumber" not in JoinRenamed_node1764161801007.toDF().columns
assert JoinRenamed_node1764161801007.count() == 14460
# frame1's absent keys stay absent after the join: 240 of the 482 customers shared with the public.
# (A Filter over the same-name join above, which holds `.serialNumber`: filter_after_same_name_join.py.)
assert Filter.apply(frame=JoinRenamed_node1764161801007, f=lambda row: "shareWithPublicAsOfDate" in row).count() == 240 * 30

# Script generated for node Drop Renamed
DropRenamed_node1764161801008 = DropFields.apply(frame=JoinRenamed_node1764161801007, paths=["`(right) sensorReadingTime`", "`(right) serialNumber`", "`(right) distanceFromObject`"], transformation_ctx="DropRenamed_node1764161801008")
assert DropRenamed_node1764161801008.toDF().columns == CustomerFilter_node1764161801003.toDF().columns, DropRenamed_node1764161801008.toDF().columns

# A key that names no field matches nothing, with a warning (the layer's decision, stedi/studio/frames.py).
Nothing_node1764161801009 = Join.apply(frame1=CustomerFilter_node1764161801003, frame2=RenamedkeysforJoin_node1764161801006, keys1=["serialnumber"], keys2=["`(right) serialNumber`"], transformation_ctx="Nothing_node1764161801009")
assert Nothing_node1764161801009.count() == 0
job.commit()
