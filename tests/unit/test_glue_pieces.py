"""The local awsglue layer's other parts, each on its own: Glue's JSON reading, getResolvedOptions,
DQDL rulesets, job bookmarks, a sink's part names and table, what a script is granted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from stedi.studio import arguments, bookmarks, dqdl, readers, sinks, workspace
from stedi.studio.frames import DynamicFrame
from stedi.studio.records import ABSENT


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_json_is_read_as_glue_reads_it(spark, tmp_path):
    lines = write(tmp_path / "a.json",
                  '{"sensorReadingTime": 1655564444103, "serialNumber": "s1", "distanceFromObject": 218}\n'
                  '\n{"serialNumber": "s2", "distanceFromObject": 9, "sensorReadingTime": 1655564444104, "x": 1.5}\n'
                  "not json\n[1, 2]\n")
    frame, errors = readers.read_json(spark, [str(lines)], multiline=False)
    # file order, not Spark's sorted names; int where every value fits 32 bits
    assert [(f.name, f.dataType.simpleString()) for f in frame.schema.fields] == [
        ("sensorReadingTime", "bigint"), ("serialNumber", "string"), ("distanceFromObject", "int"),
        ("x", "double"), (ABSENT, "array<string>")]
    assert errors == 2  # a line that is not a JSON object is an error record, not a row
    records = DynamicFrame(frame, None).records()
    assert records == [
        {"sensorReadingTime": 1655564444103, "serialNumber": "s1", "distanceFromObject": 218},
        {"sensorReadingTime": 1655564444104, "serialNumber": "s2", "distanceFromObject": 9, "x": 1.5},
    ]


def test_multiline_json_reads_an_array_of_objects(spark, tmp_path):
    array = write(tmp_path / "a.json", '[\n {"a": 1,\n  "b": "x"},\n {"a": 2}\n]\n')
    frame, errors = readers.read_json(spark, [str(array)], multiline=True)
    assert DynamicFrame(frame, None).records() == [{"a": 1, "b": "x"}, {"a": 2}] and errors == 0


@pytest.mark.parametrize("options, expected", [({"multiline": False}, False), ({"multiLine": "false"}, False),
                                               ({"multiline": True}, True), ({"MULTILINE": "true"}, True), ({}, None)])
def test_both_multiline_spellings_are_read(options, expected):
    assert readers.option(options, "multiLine") == expected


def test_the_format_of_a_hive_table():
    json_table = {"StorageDescriptor": {"SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}}
    parquet = {"StorageDescriptor": {"SerdeInfo": {"SerializationLibrary": sinks.PARQUET_SERDE}}}
    csv = {"StorageDescriptor": {"SerdeInfo": {"SerializationLibrary": sinks.CSV_SERDE,
                                               "Parameters": {"field.delim": "|"}}},
           "Parameters": {"skip.header.line.count": "1"}}
    assert readers.hive_format(json_table) == ("json", {})
    assert readers.hive_format(parquet) == ("parquet", {})
    assert readers.hive_format(csv) == ("csv", {"separator": "|", "withHeader": True})
    with pytest.raises(readers.SourceError, match="reads JSON, CSV, Parquet and Iceberg"):
        readers.hive_format({"Name": "t", "StorageDescriptor": {"SerdeInfo": {"SerializationLibrary": "x.AvroSerDe"}}})


# ------------------------------------------------------------------ getResolvedOptions


def test_resolved_options_as_glue_gives_them():
    resolved = arguments.resolve(["job.py", "--JOB_NAME", "j", "--bucket=b", "--ignored", "x"], ["JOB_NAME", "bucket"])
    assert resolved["JOB_NAME"] == "j" and resolved["bucket"] == "b"
    assert resolved["job_bookmark_option"] == "job-bookmark-disable"
    assert resolved["JOB_RUN_ID"] is None and "TempDir" in resolved


def test_a_missing_option_is_glues_sentence():
    with pytest.raises(arguments.GlueArgumentError, match="the following arguments are required: --JOB_NAME, --x"):
        arguments.resolve(["job.py"], ["JOB_NAME", "x"])


def test_glue_6_refuses_abbreviated_names():
    with pytest.raises(arguments.GlueArgumentError):
        arguments.resolve(["job.py", "--JOB_NA", "j"], ["JOB_NAME"])
    assert arguments.resolve(["job.py", "--JOB_NA", "j"], ["JOB_NAME"], allow_abbrev=True)["JOB_NAME"] == "j"


def test_the_bookmark_option_and_its_legacy_spelling():
    assert arguments.resolve(["j", "--job-bookmark-option", "job-bookmark-enable"], [])["job_bookmark_option"] == \
        "job-bookmark-enable"
    assert arguments.resolve(["j", "--continuation-option", "continuation-readonly"], [])["job_bookmark_option"] == \
        "job-bookmark-pause"
    with pytest.raises(RuntimeError, match="reserved"):
        arguments.resolve(["j"], ["job-bookmark-option"])


# ------------------------------------------------------------------ DQDL


def test_studios_default_ruleset():
    (rule,) = dqdl.parse('\n    Rules = [\n        ColumnCount > 0\n    ]\n')
    assert rule == dqdl.Rule("ColumnCount", (), dqdl.Condition(">", (0,)), "ColumnCount > 0")


def test_each_rule_evaluated_on_a_frame(spark):
    df = spark.createDataFrame([("a", 1), ("b", 2), ("b", None)], "k string, n bigint")
    rules = dqdl.parse('Rules = [ RowCount = 3, ColumnCount between 1 and 3, IsComplete "k", Completeness "n" >= 0.9,'
                       ' ColumnExists "n", IsUnique "k", ColumnValues "n" in [1, 2], ColumnValues "k" matches "[ab]",'
                       ' ColumnValues "n" > 0 ]')
    outcomes = dqdl.evaluate(rules, df)
    assert [(o.rule, o.passed) for o in outcomes] == [
        ("RowCount = 3", True), ("ColumnCount between 1 and 3", True), ('IsComplete "k"', True),
        ('Completeness "n" >= 0.9', False), ('ColumnExists "n"', True), ('IsUnique "k"', False),
        ('ColumnValues "n" in [1, 2]', False), ('ColumnValues "k" matches "[ab]"', True),
        ('ColumnValues "n" > 0', False),
    ]
    assert outcomes[3].reason == "Value: 0.666667 does not meet the constraint requirement!"


@pytest.mark.parametrize("ruleset, refusal", [
    ('Rules = [ Mean "x" > 0 ]', "DQDL rule Mean is not evaluated locally"),
    ('Rules = [ (RowCount > 0) and (IsComplete "x") ]', "composite rules"),
    ('Rules = [ IsComplete "x" where "x > 1" ]', "`where` clauses"),
    ("RowCount > 0", "a ruleset is `Rules = ["),
])
def test_rules_not_evaluated_locally_are_refused_by_name(ruleset, refusal):
    with pytest.raises(dqdl.RulesetError, match=refusal.replace("(", r"\(").replace("[", r"\[")):
        dqdl.parse(ruleset)


# ------------------------------------------------------------------ job bookmarks


@dataclass(frozen=True)
class Listed:
    uri: str
    last_modified_ms: int


def test_a_bookmark_reads_only_what_is_new_and_is_saved_by_commit(tmp_path):
    first = [Listed("s3://b/a.json", 1_000_000), Listed("s3://b/b.json", 2_000_000)]
    run = bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-enable")
    assert run.select("src", first) == (first, 0)
    assert not bookmarks.path(tmp_path, "job").exists()  # nothing saved before the commit
    assert run.commit()
    again = bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-enable")
    later = [*first, Listed("s3://b/c.json", 3_000_000)]
    assert again.select("src", later) == ([later[2]], 2)
    # a file stamped in the same instant as one already read is still new
    same = [*first, Listed("s3://b/late.json", 2_000_000)]
    assert bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-enable").select("src", same) == ([same[2]], 2)


def test_pause_reads_from_the_bookmark_without_saving_and_disable_reads_all(tmp_path):
    files = [Listed("s3://b/a.json", 1)]
    enabled = bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-enable")
    enabled.select("src", files)
    enabled.commit()
    paused = bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-pause")
    assert paused.select("src", files) == ([], 1) and not paused.commit()
    assert bookmarks.Bookmarks.load(tmp_path, "job", None).select("src", files) == (files, 0)
    assert bookmarks.reset(tmp_path, "job") and not bookmarks.reset(tmp_path, "job")
    with pytest.raises(bookmarks.BookmarkError):
        bookmarks.Bookmarks.load(tmp_path, "job", "job-bookmark-on")


# ------------------------------------------------------------------ sinks


def test_part_files_are_named_as_glue_names_them(tmp_path):
    (tmp_path / "k=1").mkdir()
    for name in ("part-00000-x.json.gz", "_SUCCESS", ".part-00000-x.json.gz.crc", "k=1/part-00001-y.json.gz"):
        write(tmp_path / name, "")
    assert [n for _, n in sinks._parts(tmp_path, 1700000000000, "json", ".gz", {})] == [
        "k=1/run-1700000000000-part-r-00000.gz", "run-1700000000000-part-r-00001.gz"]
    write(tmp_path / "part-00002-z.snappy.parquet", "")
    named = sinks._parts(tmp_path, 1, "glueparquet", "", {"compression": "snappy"})
    parquet = [n for p, n in named if "parquet" in p.name]
    assert parquet == ["run-1-part-block-0-r-00002-snappy.parquet"]


def test_the_table_a_json_sink_makes(spark):
    @dataclass
    class Run:
        job_name: str = "customer_landing_to_trusted"
        run_id: str = "jr_1"

    schema = spark.createDataFrame([], "customerName string, sensorReadingTime bigint, d int, day string").schema
    target = sinks.Target(path="s3://b/customer/trusted", fmt="json", partition_keys=["day"], database="stedi",
                          table="customer_trusted", update_catalog=True, options={"compression": "gzip"})
    table = sinks.table_input(target, schema, "json", Run())
    assert table["Parameters"] == {"CreatedByJob": "customer_landing_to_trusted", "CreatedByJobRun": "jr_1",
                                   "classification": "json"}
    assert table["StorageDescriptor"]["Columns"] == [{"Name": "customername", "Type": "string"},
                                                     {"Name": "sensorreadingtime", "Type": "bigint"},
                                                     {"Name": "d", "Type": "int"}]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert table["StorageDescriptor"]["Location"] == "s3://b/customer/trusted/"
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    parquet = sinks.table_input(target, schema, "glueparquet", Run())
    assert parquet["Parameters"]["useGlueParquetWriter"] == "true"
    assert parquet["Parameters"]["classification"] == "parquet"


def test_fields_that_differ_only_in_case_cannot_become_columns():
    target = sinks.Target(path="s3://b/x/", database="stedi", table="t")
    with pytest.raises(sinks.SinkError, match="'serialNumber' and 'serialnumber'"):
        sinks._check_names(["serialNumber", "serialnumber"], target)


# ------------------------------------------------------------------ what a script may touch


def test_what_a_script_names_is_what_it_is_granted():
    script = '''glueContext.create_dynamic_frame.from_options(connection_options={"paths": ["s3://my-bucket/customer/landing/"]})
    glueContext.getSink(path="s3://my-bucket/customer/trusted/", connection_type="s3")
    sink.setCatalogInfo(catalogDatabase="stedi",catalogTableName="customer_trusted")
    glueContext.create_dynamic_frame.from_catalog(database="other_db", table_name="x")'''
    paths = workspace.named_paths(script)
    assert paths == ["s3://my-bucket/customer/landing/", "s3://my-bucket/customer/trusted/"]
    assert workspace.named_databases(script) == ["other_db", "stedi"]
    document = workspace.grant_document(paths, ["stedi"], "123456789012", "us-east-1")
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ScriptPaths"]["Resource"] == ["arn:aws:s3:::my-bucket/customer/landing/*",
                                                     "arn:aws:s3:::my-bucket/customer/trusted/*"]
    assert statements["ListScriptPaths0"]["Condition"]["StringLike"]["s3:prefix"] == [
        "customer/landing", "customer/landing/*", "customer/trusted", "customer/trusted/*"]
    assert "arn:aws:glue:us-east-1:123456789012:table/stedi/*" in statements["ScriptDatabases"]["Resource"]
    assert not any(r == "*" for s in document["Statement"] for r in s["Resource"])
    assert json.dumps(workspace.grant_document([], [], "1", "r")) == '{"Version": "2012-10-17", "Statement": []}'
