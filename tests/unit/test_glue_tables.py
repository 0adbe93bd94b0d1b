"""The landing tables' registration in a Glue API (moto's, in-process): a run that finds them as
declared changes nothing, one that finds them changed puts the declaration back."""

from __future__ import annotations

import boto3
from moto import mock_aws

from stedi.lakehouse import glue_tables
from stedi.tables import lakehouse


def test_registering_what_is_already_declared_sends_no_change_and_a_changed_table_is_put_back():
    house = lakehouse()
    landing = [t.name for t in house.zone("landing")]
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue_tables.register(glue, house, "bucket")
        assert set(landing) <= set(glue_tables.tables(glue, house.namespace))

        sent: list[str] = []
        glue.meta.events.register("before-call.glue.*", lambda model, **_: sent.append(model.name))
        glue_tables.register(glue, house, "bucket")
        assert [name for name in sent if not name.startswith("Get")] == ["CreateDatabase"]  # refused: it exists

        moved = house.table(landing[0])
        changed = glue_tables.landing_table_input(moved, house, "bucket")
        changed["StorageDescriptor"]["Location"] = "s3://elsewhere/"
        glue.update_table(DatabaseName=house.namespace, TableInput=changed)
        sent.clear()
        glue_tables.register(glue, house, "bucket")
        assert [name for name in sent if not name.startswith("Get")] == ["CreateDatabase", "UpdateTable"]
        found = glue.get_table(DatabaseName=house.namespace, Name=moved.name)["Table"]
        assert found["StorageDescriptor"]["Location"] == f"s3://bucket/{house.landing_prefix(moved)}"
