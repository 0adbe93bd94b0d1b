"""Athena's DDL as learners write it, read into the Glue Data Catalog's table definitions; the
catalog's types as each engine names them; Hadoop's snappy files; queries over a learner's tables."""

from __future__ import annotations

import struct

import pytest

from stedi.query import ddl
from stedi.query.catalog import Catalog, Relation, declared, duckdb_type, trino_type
from stedi.query.errors import QueryError, Untranslatable
from stedi.query.snappy import SnappyError, hadoop_snappy_decompress
from stedi.query.translate import translate

LEARNER_DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS `stedi`.`customer_landing` (
  `customerName` string,
  `serialNumber` string,
  `shareWithResearchAsOfDate` bigint
)
COMMENT 'as the Athena console writes it'
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'FALSE', 'dots.in.keys' = 'FALSE', 'case.insensitive' = 'TRUE',
                      'mapping' = 'TRUE')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://my-stedi-bucket/customer/landing/'
TBLPROPERTIES ('classification' = 'json')"""


def table_of(sql: str) -> dict:
    statement = ddl._parse(sql)
    return ddl._table_input(statement.this.this.name.lower(), statement, ddl._properties(statement))


def test_a_learners_json_table_as_athena_registers_it():
    table = table_of(LEARNER_DDL)
    descriptor = table["StorageDescriptor"]
    assert table["TableType"] == "EXTERNAL_TABLE" and table["Description"] == "as the Athena console writes it"
    assert descriptor["Columns"] == [{"Name": "customername", "Type": "string"},
                                     {"Name": "serialnumber", "Type": "string"},
                                     {"Name": "sharewithresearchasofdate", "Type": "bigint"}]
    assert descriptor["SerdeInfo"] == {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {
        "ignore.malformed.json": "FALSE", "dots.in.keys": "FALSE", "case.insensitive": "TRUE", "mapping": "TRUE"}}
    assert descriptor["Location"] == "s3://my-stedi-bucket/customer/landing/"
    assert table["Parameters"]["classification"] == "json" and table["Parameters"]["EXTERNAL"] == "TRUE"


def test_parquet_partitions_and_delimited_text():
    parquet = table_of("CREATE EXTERNAL TABLE t (a int, b struct<x: string, y: array<bigint>>) "
                       "PARTITIONED BY (day string) STORED AS PARQUET LOCATION 's3://b/t/'")
    assert parquet["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == ddl.PARQUET[0]
    assert parquet["StorageDescriptor"]["Columns"][1] == {"Name": "b", "Type": "struct<x:string,y:array<bigint>>"}
    assert parquet["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    assert parquet["Parameters"]["classification"] == "parquet"
    csv = table_of("CREATE EXTERNAL TABLE t (a string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
                   "LOCATION 's3://b/t/' TBLPROPERTIES ('skip.header.line.count'='1')")
    assert csv["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == "|"
    assert csv["Parameters"]["skip.header.line.count"] == "1"


def test_a_table_needs_a_location_and_external():
    with pytest.raises(QueryError, match="needs LOCATION"):
        table_of("CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET")


@pytest.mark.parametrize("sql, is_ddl", [
    ("CREATE EXTERNAL TABLE t (a int) LOCATION 's3://b/'", True), ("-- note\n drop table t", True),
    ("SHOW CREATE TABLE t", True), ("SHOW DATABASES", True), ("MSCK REPAIR TABLE t", True),
    ("SELECT 1", False), ("SHOW TABLES", False), ("DESCRIBE t", False), ("WITH x AS (SELECT 1) SELECT * FROM x", False),
])
def test_which_statements_are_ddl(sql, is_ddl):
    assert ddl.is_ddl(sql) == is_ddl


@pytest.mark.parametrize("hive, trino, duck", [
    ("string", "varchar", "VARCHAR"), ("int", "integer", "INTEGER"), ("bigint", "bigint", "BIGINT"),
    ("float", "real", "FLOAT"), ("decimal(10,2)", "decimal(10,2)", "DECIMAL(10,2)"),
    ("array<bigint>", "array(bigint)", "BIGINT[]"),
    ("struct<x:string,y:map<string,int>>", "row(x varchar, y map(varchar, integer))",
     'STRUCT("x" VARCHAR, "y" MAP(VARCHAR, INTEGER))'),
])
def test_catalog_types_as_each_engine_names_them(hive, trino, duck):
    assert trino_type(hive) == trino and duckdb_type(hive) == duck


def test_hadoop_snappy_files_are_read():
    import pyarrow as pa

    text = b'{"a": 1}\n' * 5000
    chunk = pa.Codec("snappy").compress(text, asbytes=True)
    framed = struct.pack(">I", len(text)) + struct.pack(">I", len(chunk)) + chunk
    assert hadoop_snappy_decompress(framed + framed) == text + text
    with pytest.raises(SnappyError):
        hadoop_snappy_decompress(framed[:-3])


def learner_catalog() -> Catalog:
    catalog = declared()
    catalog.databases.append("learner")
    catalog.relations[("learner", "customer_trusted")] = Relation(
        "learner", "customer_trusted", "json", (("email", "string"), ("sharewithresearchasofdate", "bigint")),
        location="s3://my-bucket/customer/trusted/")
    return catalog


def test_a_query_reads_a_learners_table_in_its_own_database():
    sql = translate("SELECT count(*) FROM learner.customer_trusted WHERE sharewithresearchasofdate > 0",
                    catalog=learner_catalog()).sql
    assert '"learner"."customer_trusted"' in sql
    assert translate("SHOW TABLES IN learner", catalog=learner_catalog()).sql.endswith("AS t(\"Table\")")
    with pytest.raises(QueryError, match="Table 'learner.nope' does not exist"):
        translate("SELECT * FROM learner.nope", catalog=learner_catalog())
    with pytest.raises(QueryError, match="Schema 'other' does not exist"):
        translate("SHOW TABLES IN other", catalog=learner_catalog())


def test_cast_as_string_is_refused_as_athena_refuses_it():
    with pytest.raises(QueryError, match=r"Unknown type: string .* at line 1, column 8") as refused:
        translate("SELECT CAST(email AS string) FROM customer_trusted")
    assert not isinstance(refused.value, Untranslatable)  # Athena refuses it too: no engine answers it


def test_a_statement_duckdb_cannot_answer_faithfully_is_untranslatable():
    with pytest.raises(Untranslatable, match="approx_distinct"):
        translate("SELECT approx_distinct(email) FROM customer_trusted")
