# Behaviour: a record holds only the keys its JSON object had. In the starter data 474 of 956
# customers have no shareWithResearchAsOfDate at all; a Filter function that raises KeyError on
# them drops them, so the course's `not (row[...] == 0)` keeps the 482 who consented.
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue import DynamicFrame
import re

def sparkSqlQuery(glueContext, query, mapping, transformation_ctx) -> DynamicFrame:
    for alias, frame in mapping.items():
        frame.toDF().createOrReplaceTempView(alias)
    result = spark.sql(query)
    return DynamicFrame.fromDF(result, glueContext, transformation_ctx)
args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Customer Landing
CustomerLanding_node1764160101001 = glueContext.create_dynamic_frame.from_options(format_options={"multiLine": "false"}, connection_type="s3", format="json", connection_options={"paths": ["s3://stedi-studio-lake/customer/landing/"], "recurse": True}, transformation_ctx="CustomerLanding_node1764160101001")
assert CustomerLanding_node1764160101001.count() == 956

# The course's lambda: KeyError on the 474 absent keys drops them.
Filter_node1764160101002 = Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0)), transformation_ctx="Filter_node1764160101002")
assert Filter_node1764160101002.count() == 482, Filter_node1764160101002.count()

# The same, one-line style (no space after `not`), and the other spellings learners use.
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: (not(row["shareWithResearchAsOfDate"] == 0))).count() == 482
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: row["shareWithResearchAsOfDate"] is not None).count() == 482
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: row.get("shareWithResearchAsOfDate") not in (None, "", "null")).count() == 482
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: (bool(re.match("[0-9]+", str(row["shareWithResearchAsOfDate"]))))).count() == 482
# `"key" in row` sees the absence; the record's keys are those of its JSON object.
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: "shareWithResearchAsOfDate" not in row).count() == 474
# Each record has its own keys: 7 always, and 0 to 3 of the three consent dates (130 have all 10).
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: len(row) == 10).count() == 130
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: len(row) == 7).count() == 102

# Records are case-sensitive: the lower-case name is absent from every record, so all are dropped.
assert Filter.apply(frame=CustomerLanding_node1764160101001, f=lambda row: (not(row["sharewithresearchasofdate"] == 0))).count() == 0

# In a DataFrame an absent key is a NULL, like a null: Spark SQL (case-insensitive) agrees on 482.
df = CustomerLanding_node1764160101001.toDF()
assert df.where(df["shareWithResearchAsOfDate"].isNull()).count() == 474
SqlQuery4410 = '''
select * from myDataSource where sharewithresearchasofdate is not null
'''
SQLQuery_node1764160101003 = sparkSqlQuery(glueContext, query = SqlQuery4410, mapping = {"myDataSource":CustomerLanding_node1764160101001}, transformation_ctx = "SQLQuery_node1764160101003")
assert SQLQuery_node1764160101003.count() == 482

# After fromDF every column is a present key (a NULL is a present None): the `== 0` lambda then
# keeps all 956 rows, which is why the course's lambda must come before any SQL node.
SQLQuery_node1764160101004 = sparkSqlQuery(glueContext, query = "select * from myDataSource", mapping = {"myDataSource":CustomerLanding_node1764160101001}, transformation_ctx = "SQLQuery_node1764160101004")
assert Filter.apply(frame=SQLQuery_node1764160101004, f=lambda row: (not (row["shareWithResearchAsOfDate"] == 0))).count() == 956
assert Filter.apply(frame=SQLQuery_node1764160101004, f=lambda row: row["shareWithResearchAsOfDate"] is not None).count() == 482

# A function that raises something else makes error records: not kept, counted.
def strict(row):
    if "shareWithResearchAsOfDate" not in row:
        raise RuntimeError("no consent date")
    return True
Strict_node1764160101005 = Filter.apply(frame=CustomerLanding_node1764160101001, f=strict, transformation_ctx="Strict_node1764160101005")
assert Strict_node1764160101005.count() == 482
assert Strict_node1764160101005.errorsCount() == 474, Strict_node1764160101005.errorsCount()
job.commit()
