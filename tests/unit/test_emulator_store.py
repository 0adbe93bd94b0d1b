"""The emulator's store on its own: which requests wait for a save, object files and their views,
and the group commit. The emulator process and kill -9 are in tests/integration/test_stack.py."""

from __future__ import annotations

import threading

import pytest

from stedi.targets import emulator_store
from stedi.targets.emulator_store import Store, StoredValue


@pytest.mark.parametrize(
    ("method", "target", "changes"),
    [
        ("GET", "", False),
        ("HEAD", "", False),
        ("PUT", "", True),  # PutObject, UploadPart
        ("DELETE", "", True),
        ("POST", "", True),  # DeleteObjects, CompleteMultipartUpload, an IAM or STS query
        ("POST", "AWSGlue.GetTable", False),
        ("POST", "AWSGlue.GetTables", False),
        ("POST", "secretsmanager.GetSecretValue", False),
        ("POST", "AWSGlue.UpdateTable", True),
        ("POST", "AWSGlue.CreateTable", True),
        ("POST", "secretsmanager.PutSecretValue", True),
    ],
)
def test_which_requests_wait_for_a_save(method, target, changes):
    environ = {"REQUEST_METHOD": method, **({"HTTP_X_AMZ_TARGET": target} if target else {})}
    assert emulator_store.changes_state(environ) is changes


def test_a_value_is_a_file_and_a_view_copies_it_before_it_is_written(tmp_path):
    store = Store(tmp_path)
    store.objects.mkdir(parents=True)
    value = StoredValue(store)
    value.write(b"hello world")
    value.seek(0)
    assert value.read(5) == b"hello" and value.read() == b" world"
    assert store.object_path(value.name).read_bytes() == b"hello world"

    view = store.value_for(value.name)  # as a deep copy of the key makes it
    view.seek(0)
    view.truncate()
    view.write(b"changed")
    assert store.object_path(value.name).read_bytes() == b"hello world"  # the original is untouched
    assert store.object_path(view.name).read_bytes() == b"changed"

    view.close()
    assert store._doomed == [view.name]  # the copy belongs to the view now: removed after the next save
    value.close()
    assert store._doomed == [view.name, value.name]
    with pytest.raises(ValueError, match="closed"):
        value.read()


def test_requests_changing_state_together_share_one_save(tmp_path, monkeypatch):
    """Eight requests that change state at once: each is answered only after a save that holds it,
    and they take one save: the save waits for the changes under way."""
    monkeypatch.setattr(emulator_store, "_pickled", lambda: b"state")
    store = Store(tmp_path)
    store.objects.mkdir(parents=True)
    inside, release = threading.Barrier(8), threading.Event()
    answered: list[int] = []

    def app(environ, start_response):
        inside.wait(timeout=10)
        release.wait(timeout=10)
        return [b"ok"]

    durable = store.durable(app)
    store.start()

    def request():
        durable({"REQUEST_METHOD": "PUT"}, lambda *_: None)
        answered.append(store._saved)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(answered) == 8 and min(answered) >= 1
    assert store._saved == 8 and store.saves == 1
    assert (tmp_path / emulator_store.STATE_FILE).read_bytes() == b"state"


def test_a_save_that_fails_is_told_to_the_request_not_hidden(tmp_path, monkeypatch):
    def cannot(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(emulator_store, "_pickled", lambda: b"state")
    store = Store(tmp_path)
    monkeypatch.setattr(store, "_write", cannot)
    store.start()
    said = []
    body = store.durable(lambda environ, start_response: [b"ok"])(
        {"REQUEST_METHOD": "PUT"}, lambda status, headers, exc_info=None: said.append(status)
    )
    assert said == ["500 Internal Server Error"]
    assert b"could not save its state" in body[0] and b"No space left" in body[0]


@pytest.fixture
def moto_in_files(tmp_path, monkeypatch):
    """moto in this process with its objects in a store, as in the emulator; put back afterwards."""
    from moto.core.common_models import BaseModel
    from moto.s3 import models

    monkeypatch.setattr(models, "tempfile", models.tempfile)
    for name in ("__getstate__", "__setstate__", "__reduce_ex__", "__setattr__", "set_metadata"):
        monkeypatch.setattr(models.FakeKey, name, getattr(models.FakeKey, name))
    monkeypatch.setattr(BaseModel, "__new__", BaseModel.__dict__["__new__"])
    monkeypatch.setattr(emulator_store, "_store", None)
    store = emulator_store.open_store(tmp_path / "lakehouse")
    store.load()
    yield store
    from moto.backends import get_backend

    get_backend("s3")["123456789012"]["aws"].buckets.pop("kept-pickles", None)


def test_a_key_keeps_its_pickle_until_it_changes_and_a_saved_state_loads_back_whole(moto_in_files):
    """Every save pickles every key; a key's own pickle is reused until an attribute or its metadata
    changes, and the state loads back with every key's bytes, ETag and metadata."""
    import pickle

    from moto.backends import get_backend

    store = moto_in_files
    s3 = get_backend("s3")["123456789012"]["aws"]
    s3.create_bucket("kept-pickles", "us-east-1")
    for i in range(20):
        s3.put_object("kept-pickles", f"data/{i:02d}.parquet", f"rows {i}".encode())
    keys = s3.buckets["kept-pickles"].keys
    first = emulator_store._pickled()
    kept = {name: keys[name].__dict__[emulator_store._PICKLED] for name in keys}
    assert emulator_store._pickled() == first  # nothing changed: the same bytes from the kept pickles
    assert all(keys[name].__dict__[emulator_store._PICKLED] is kept[name] for name in keys)

    keys["data/00.parquet"].set_metadata({"x-amz-meta-owner": "stedi"})
    keys["data/01.parquet"].value = b"rewritten"
    assert emulator_store._PICKLED not in keys["data/00.parquet"].__dict__
    assert emulator_store._PICKLED not in keys["data/01.parquet"].__dict__
    blob = emulator_store._pickled()

    store._restoring = True
    try:
        loaded = pickle.loads(blob)["s3"]["123456789012"]["aws"].buckets["kept-pickles"].keys
    finally:
        store._restoring = False
    assert sorted(loaded) == sorted(keys)
    assert loaded["data/00.parquet"].metadata["x-amz-meta-owner"] == "stedi"
    assert loaded["data/01.parquet"].value == b"rewritten"
    assert loaded["data/01.parquet"].etag == keys["data/01.parquet"].etag
    assert all(loaded[name].value == keys[name].value for name in keys)
