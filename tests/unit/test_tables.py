import pytest

from stedi.tables import lakehouse, parse


def test_every_table_is_declared_once_with_its_zone():
    house = lakehouse()
    assert {t.name: t.zone for t in house.tables.values()} == {
        "customer_landing": "landing",
        "accelerometer_landing": "landing",
        "step_trainer_landing": "landing",
        "customer_trusted": "trusted",
        "accelerometer_trusted": "trusted",
        "step_trainer_trusted": "trusted",
        "customers_curated": "curated",
        "machine_learning_curated": "curated",
    }


def test_trusted_tables_keep_their_landing_columns():
    house = lakehouse()
    assert house.table("customer_trusted").column_names == house.table("customer_landing").column_names
    assert house.table("step_trainer_trusted").keys == ("serialNumber", "sensorReadingTime")


def test_curated_tables_declare_no_direct_identifier():
    for table in lakehouse().zone("curated"):
        assert table.pii_columns == []
        assert not {"email", "customerName", "phone", "birthDay", "serialNumber", "user"} & set(table.column_names)


def test_schemas_agree_across_spark_arrow_and_iceberg():
    table = lakehouse().table("machine_learning_curated")
    spark_types = [f.dataType.simpleString() for f in table.spark_schema().fields]
    arrow_types = [str(f.type) for f in table.arrow_schema()]
    iceberg_types = [str(f.field_type) for f in table.iceberg_schema().fields]
    assert spark_types == ["string", "bigint", "int", "bigint", "double", "double", "double"]
    assert arrow_types == ["string", "int64", "int32", "int64", "double", "double", "double"]
    assert iceberg_types == ["string", "long", "int", "long", "double", "double", "double"]


def test_a_bad_declaration_is_refused_with_the_reason():
    text = """
[lakehouse]
namespace = "n"
bucket = "b"
warehouse_prefix = "w"
region = "r"
[tables.t]
zone = "trusted"
job = "j"
columns = [{ name = "a", type = "timestamp" }]
"""
    with pytest.raises(ValueError, match="column a has type 'timestamp'"):
        parse(text)
