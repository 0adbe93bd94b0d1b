"""Uploading the landing directory: the bucket ends up holding exactly its files, and bytes the
bucket already holds are not sent again (S3 in-process, moto)."""

from __future__ import annotations

import hashlib

from moto import mock_aws

from stedi.datasets import synthetic
from stedi.lakehouse import landing
from stedi.tables import lakehouse


def test_a_second_upload_sends_only_what_changed_and_deletes_what_left(tmp_path):
    synthetic.generate(tmp_path / "landing", customers=20, seed=3)
    house = lakehouse()
    digests = tmp_path / "state" / "landing-md5.json"
    messages: list[str] = []
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name=house.region)
        s3.create_bucket(Bucket=house.bucket)
        s3.put_object(Bucket=house.bucket, Key="customer/landing/stale.json", Body=b"{}\n")
        first = landing.upload(tmp_path / "landing", s3, messages.append, digests=digests)
        changed = sorted((tmp_path / "landing" / "step_trainer" / "landing").glob("*.json"))[0]
        changed.write_bytes(changed.read_bytes() + b"\n")
        second = landing.upload(tmp_path / "landing", s3, messages.append, digests=digests)
        etags = {
            o["Key"]: o["ETag"].strip('"')
            for o in s3.list_objects_v2(Bucket=house.bucket)["Contents"]
            if not o["Key"].endswith("/")
        }

    assert "customer/landing/stale.json" not in etags
    assert {key: copy.md5 for key, copy in second.items()} == etags  # every object is its local file
    for key, copy in second.items():
        assert hashlib.md5(copy.path.read_bytes()).hexdigest() == copy.md5 == etags[key]
    assert messages[3:] == [
        "uploaded 0 files to s3://stedi-lakehouse/customer/landing/, 1 unchanged",
        "uploaded 0 files to s3://stedi-lakehouse/accelerometer/landing/, 1 unchanged",
        "uploaded 1 files to s3://stedi-lakehouse/step_trainer/landing/",
    ]
    assert len(first) == len(second) and digests.exists()
    key = next(k for k, c in second.items() if c.path == changed)
    assert second[key].read_if(etags[key]) == changed.read_bytes()
    assert second[key].read_if("0" * 32) is None  # the object is not these bytes: read the object


def test_an_erased_persons_records_never_reach_the_bucket_again(tmp_path, monkeypatch):
    """The suppression list at the upload: the object is the file without them, counted, every run;
    a file found clean or already scrubbed is not read again while the list stays the same."""
    import json

    from stedi.privacy.suppression import Suppression
    from stedi.pseudonym import hmac_hex

    synthetic.generate(tmp_path / "landing", customers=20, seed=3)
    house = lakehouse()
    key = b"k" * 32
    customers = sorted((tmp_path / "landing" / "customer" / "landing").glob("*.json"))[0]
    first = json.loads(customers.read_text().splitlines()[0])
    gone = Suppression(key, {hmac_hex(first["email"].strip().lower(), key)}, {hmac_hex(first["serialNumber"], key)})
    digests = tmp_path / "state" / "landing-md5.json"
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name=house.region)
        s3.create_bucket(Bucket=house.bucket)
        copies = landing.upload(tmp_path / "landing", s3, digests=digests, suppression=gone)
        objects = {o["Key"]: s3.get_object(Bucket=house.bucket, Key=o["Key"])["Body"].read()
                   for o in s3.list_objects_v2(Bucket=house.bucket)["Contents"]}
        withheld = dict(gone.withheld)
        reads = []
        monkeypatch.setattr(gone, "scrub", lambda data: reads.append(data) or (data, 0))
        gone.withheld.clear()
        landing.upload(tmp_path / "landing", s3, digests=digests, suppression=gone)

    assert withheld["customer_landing"] == 1 and sum(withheld.values()) > 1
    assert all(first["email"].encode() not in body and first["serialNumber"].encode() not in body
               for body in objects.values())
    scrubbed_key = f"customer/landing/{customers.name}"
    assert scrubbed_key not in copies  # no local copy stands for an object that is not its file
    assert reads == [] and gone.withheld == withheld  # the second upload read nothing, and counted the same
