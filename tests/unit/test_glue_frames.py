"""The local awsglue layer's DynamicFrame on tiny frames, against records written out by hand:
Glue's record semantics (absent keys, Filter's dropped records, case-sensitive names), Join's
naming of shared fields, back-quoted paths, ApplyMapping's matching and casts."""

from __future__ import annotations

import pytest

from stedi.studio import paths, transforms
from stedi.studio.frames import DynamicFrame, NotSupportedLocally
from stedi.studio.records import ABSENT, DynamicRecord, outcome

CUSTOMERS = "email string, serialNumber string, shareWithResearchAsOfDate bigint, " + ABSENT + " array<string>"


def customers(spark) -> DynamicFrame:
    rows = [
        ("ana@x", "s1", 1000, []),
        ("bo@x", "s2", None, ["shareWithResearchAsOfDate"]),  # never consented: the key is absent
        ("cy@x", "s3", 0, []),
        ("dee@x", "s4", None, []),  # an explicit null: the key is there, its value None
    ]
    return DynamicFrame(spark.createDataFrame(rows, CUSTOMERS), None, "customers")


def steps(spark) -> DynamicFrame:
    rows = [("s1", 10, 218), ("s2", 20, 230), ("s9", 30, 1)]
    return DynamicFrame.fromDF(spark.createDataFrame(rows, "serialNumber string, sensorReadingTime bigint, "
                                                     "distanceFromObject int"), None, "steps")


def test_a_record_holds_only_the_keys_its_source_had(spark):
    assert customers(spark).records() == [
        {"email": "ana@x", "serialNumber": "s1", "shareWithResearchAsOfDate": 1000},
        {"email": "bo@x", "serialNumber": "s2"},
        {"email": "cy@x", "serialNumber": "s3", "shareWithResearchAsOfDate": 0},
        {"email": "dee@x", "serialNumber": "s4", "shareWithResearchAsOfDate": None},
    ]


def test_filter_drops_a_record_whose_function_raises_a_key_error(spark):
    kept = transforms.Filter.apply(frame=customers(spark), f=lambda row: not (row["shareWithResearchAsOfDate"] == 0))
    assert [r["email"] for r in kept.records()] == ["ana@x", "dee@x"]  # bo raised KeyError; dee's None != 0
    assert kept.errorsCount() == 0


def test_filter_names_are_case_sensitive(spark):
    kept = customers(spark).filter(lambda row: row["sharewithresearchasofdate"] is not None)
    assert kept.count() == 0


def test_any_other_exception_makes_an_error_record(spark):
    def explode(row):
        raise RuntimeError("boom")

    kept = customers(spark).filter(explode)
    assert kept.count() == 0 and kept.errorsCount() == 4 and kept.stageErrorsCount() == 4


def test_the_outcome_of_one_record():
    function = lambda row: row["a"] > 1  # noqa: E731
    assert outcome(function, {"a": 2, ABSENT: []}) == "kept"
    assert outcome(function, {"a": 1, ABSENT: []}) == "false"
    assert outcome(function, {"a": None, ABSENT: ["a"]}) == "dropped\tKeyError: 'a'"
    assert outcome(function, {"a": "x", ABSENT: []}).startswith("dropped\tTypeError")
    assert isinstance(DynamicRecord({"a": 1}), dict)


def test_join_renames_frame1s_copy_of_a_shared_field(spark):
    joined = transforms.Join.apply(frame1=customers(spark), frame2=steps(spark), keys1=["serialNumber"],
                                   keys2=["serialNumber"])
    assert joined.fields == ["email", ".serialNumber", "shareWithResearchAsOfDate", "serialNumber",
                             "sensorReadingTime", "distanceFromObject"]
    assert joined.records() == [
        {"email": "ana@x", ".serialNumber": "s1", "shareWithResearchAsOfDate": 1000, "serialNumber": "s1",
         "sensorReadingTime": 10, "distanceFromObject": 218},
        {"email": "bo@x", ".serialNumber": "s2", "serialNumber": "s2", "sensorReadingTime": 20,
         "distanceFromObject": 230},
    ]
    dropped = transforms.DropFields.apply(frame=joined, paths=["`.serialNumber`", "email"])
    assert dropped.fields == ["shareWithResearchAsOfDate", "serialNumber", "sensorReadingTime", "distanceFromObject"]


def test_filter_takes_fields_whose_names_hold_dots(spark):
    joined = customers(spark).join(["serialNumber"], ["serialNumber"], steps(spark))
    kept = joined.filter(lambda row: row[".serialNumber"] == "s1")
    assert [r["sensorReadingTime"] for r in kept.records()] == [10] and ".serialNumber" in kept.fields


def test_a_second_join_that_would_make_a_second_dotted_field_says_what_to_drop(spark):
    joined = customers(spark).join(["serialNumber"], ["serialNumber"], steps(spark))
    with pytest.raises(ValueError, match=r'DropFields.apply\(frame=..., paths=\["`.serialNumber`"\]\)'):
        joined.join(["sensorReadingTime"], ["sensorReadingTime"], steps(spark))


def test_a_join_key_that_names_no_field_matches_nothing(spark):
    joined = customers(spark).join(["serialnumber"], ["serialNumber"], steps(spark))
    assert joined.count() == 0


def test_renamed_keys_for_join_with_back_quoted_targets(spark):
    renamed = transforms.ApplyMapping.apply(frame=steps(spark), mappings=[
        ("serialNumber", "string", "`(right) serialNumber`", "string"),
        ("sensorReadingTime", "bigint", "sensorReadingTime", "long"),
    ])
    assert renamed.fields == ["(right) serialNumber", "sensorReadingTime"]
    joined = transforms.Join.apply(frame1=customers(spark), frame2=renamed, keys1=["serialNumber"],
                                   keys2=["`(right) serialNumber`"])
    assert [r["(right) serialNumber"] for r in joined.records()] == ["s1", "s2"]
    assert "(right) serialNumber" not in transforms.DropFields.apply(frame=joined,
                                                                     paths=["`(right) serialNumber`"]).fields


def test_apply_mapping_matches_sources_ignoring_case_and_casts(spark):
    mapped = customers(spark).apply_mapping([
        ("EMAIL", "string", "email", "string"),
        ("sharewithresearchasofdate", "long", "consent", "string"),
        ("serialNumber", "string", "device.serial", "string"),
    ])
    assert mapped.records()[:2] == [
        {"email": "ana@x", "consent": "1000", "device": {"serial": "s1"}},
        {"email": "bo@x", "device": {"serial": "s2"}},  # an absent source leaves its target absent
    ]
    strict = customers(spark).apply_mapping([("EMAIL", "string", "email", "string")], case_sensitive=True)
    assert strict.fields == []


def test_a_value_that_does_not_cast_becomes_null(spark):
    frame = DynamicFrame.fromDF(spark.createDataFrame([("12",), ("x",)], "n string"), None)
    assert [r["n"] for r in frame.apply_mapping([("n", "string", "n", "int")]).records()] == [12, None]


def test_select_and_rename_fields(spark):
    selected = transforms.SelectFields.apply(frame=customers(spark), paths=["serialNumber", "email", "nope"])
    assert selected.fields == ["email", "serialNumber"]
    renamed = transforms.RenameField.apply(frame=selected, old_name="serialNumber", new_name="`device id`")
    assert renamed.records()[0] == {"email": "ana@x", "device id": "s1"}
    kept = transforms.RenameField.apply(frame=customers(spark), old_name="shareWithResearchAsOfDate",
                                        new_name="consent")
    assert kept.records()[1] == {"email": "bo@x", "serialNumber": "s2"}  # still absent, under its new name


def test_print_schema_draws_glues_tree(spark, capsys):
    steps(spark).printSchema()
    assert capsys.readouterr().out == ("root\n|-- serialNumber: string\n|-- sensorReadingTime: long\n"
                                       "|-- distanceFromObject: int\n")


def test_show_prints_each_record_as_json_with_its_present_keys(spark, capsys):
    customers(spark).show(2)
    assert capsys.readouterr().out == ('{"email": "ana@x", "serialNumber": "s1", "shareWithResearchAsOfDate": 1000}\n'
                                       '{"email": "bo@x", "serialNumber": "s2"}\n')


def test_to_df_makes_an_absent_key_null(spark):
    rows = customers(spark).toDF().collect()
    assert [r.shareWithResearchAsOfDate for r in rows] == [1000, None, 0, None]
    assert ABSENT not in customers(spark).toDF().columns


@pytest.mark.parametrize("name", ["ResolveChoice", "Relationalize", "Map", "Spigot", "SelectFromCollection"])
def test_every_other_transform_says_it_is_not_supported_locally(name):
    with pytest.raises(NotSupportedLocally, match=f"awsglue.transforms.{name} is not supported locally"):
        getattr(transforms, name).apply(frame=None)


def test_other_dynamic_frame_methods_say_so_too(spark):
    with pytest.raises(NotSupportedLocally, match=r"DynamicFrame.resolveChoice\(\) is not supported locally"):
        customers(spark).resolveChoice(specs=[("x", "cast:int")])


def test_import_star_gives_glues_names():
    assert set(transforms.__all__) >= {"ApplyMapping", "DropFields", "Filter", "Join", "RenameField",
                                       "SelectFields", "ResolveChoice", "Relationalize", "Union"}


@pytest.mark.parametrize("written, names", [
    ("a.b", ("a", "b")),
    ("`.serialNumber`", (".serialNumber",)),
    ("`(right) serialNumber`", ("(right) serialNumber",)),
    ("`x.y`.z", ("x.y", "z")),
])
def test_paths_are_read_as_glue_writes_them(written, names):
    assert paths.parse(written) == names
    assert paths.parse(paths.render(names)) == names


@pytest.mark.parametrize("bad", ["a..b", "`open", "`a`b", ""])
def test_a_malformed_path_is_refused(bad):
    with pytest.raises(paths.PathError):
        paths.parse(bad)
