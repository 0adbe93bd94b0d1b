"""The emulator's lakehouse on disk: it outlives `stedi down`, a killed emulator and a reboot.

moto keeps every service's state in the memory of its process. The emulator
(stedi/targets/emulator.py) opens a Store over a directory before it serves anything, and from
then on:

- every S3 object's bytes are a file under `objects/`, never in memory (moto's FakeKey keeps them
  in a `StoredValue` instead of a SpooledTemporaryFile), so memory no longer grows with the data;
- the rest of the state (buckets and their keys, Glue databases and tables, IAM users, policies and
  keys, Secrets Manager secrets, SERVICES) is pickled to `state.pickle` after every request that
  may change it, and the request is answered only once that save is on disk. Requests that change
  state at the same time share one save (a group commit), so a burst of writes costs one pickle.
  Each S3 key keeps its own pickle until it changes, and a save copies those bytes: 2.3 ms
  instead of 9.3 ms a save for 1,000 keys, 17.9 instead of 69.0 ms for 5,000;
- an object's file is unlinked only after a saved state no longer names it. A kill at any moment
  leaves the last saved state, and every object it names is on disk.

On start the saved state is loaded back, and files no saved state names (left by a kill between a
save and its unlinks) are removed. `stedi discard` deletes the directory: the one way to lose it.

A state file is trusted like the keys beside it: it is the user's own, in the 0700 state home.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

SERVICES = ("s3", "glue", "iam", "sts", "secretsmanager")  # what the embedded stack's clients call
STATE_FILE = "state.pickle"
OBJECTS = "objects"
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Search", "BatchGet")  # JSON actions that change nothing

_store: Store | None = None  # the process's one store, which moto's patched FakeKey writes into


class StoreError(RuntimeError):
    """The emulator could not save its state; the change it answers may be lost at the next stop."""


class StoredValue:
    """A file-like stand-in for moto's SpooledTemporaryFile: an object's bytes in a file of the store.

    moto reads and writes the buffer only whole or in sequential chunks (`value`, `etag`), so each
    call opens the file, which keeps the number of open descriptors flat however many objects the
    lakehouse holds. A value that is a view (a deep copy moto makes to list versions) shares its
    original's file, never removes it, and copies it before it is written to."""

    def __init__(self, store: Store, name: str | None = None, *, owned: bool = True):
        self._store = store
        self._owned = owned
        self._position = 0
        self.closed = name is None and not owned
        self.name = name
        if name is None and owned:
            self.name = store.new_file()

    def _path(self) -> Path:
        if self.closed:
            raise ValueError("I/O operation on a closed stored value")
        return self._store.object_path(self.name)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self._position = offset
        elif whence == 1:
            self._position += offset
        else:
            self._position = self._path().stat().st_size + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        with open(self._path(), "rb") as file:
            file.seek(self._position)
            data = file.read(size)
        self._position += len(data)
        return data

    def write(self, data: bytes) -> int:
        self._own()
        with open(self._path(), "r+b") as file:
            file.seek(self._position)
            written = file.write(data)
        self._position += written
        return written

    def truncate(self, size: int | None = None) -> int:
        self._own()
        size = self._position if size is None else size
        os.truncate(self._path(), size)
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed and self._owned:
            self._store.doom(self.name)
        self.closed = True

    def _own(self) -> None:
        if not self._owned:
            name = self._store.new_file()
            shutil.copyfile(self._path(), self._store.object_path(name))
            self.name, self._owned = name, True


class Store:
    def __init__(self, root: Path):
        self.root = root
        self.objects = root / OBJECTS
        self.state_file = root / STATE_FILE
        self._condition = threading.Condition()
        self._changing = 0  # requests changing state right now
        self._freezing = False  # a save waits for them to finish, and holds new ones back
        self._changed = 0  # requests that changed state so far
        self._saved = 0  # of those, how many the state on disk holds
        self._doomed: list[str] = []  # files of disposed objects, unlinked after the next save
        self._restoring = False
        self._named: set[str] = set()  # the files the loaded state names
        self._failure: BaseException | None = None
        self.saves = 0
        self.seconds = {"changes held back": 0.0, "pickling": 0.0, "writing": 0.0}  # what the saves cost
        self.size = 0  # of the last save, bytes

    # -- the object files -----------------------------------------------------------------

    def new_file(self) -> str:
        unique = uuid.uuid4().hex
        name = f"{unique[:2]}/{unique}"
        path = self.object_path(name)
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600, exist_ok=False)
        return name

    def object_path(self, name: str) -> Path:
        return self.objects / name

    def doom(self, name: str) -> None:
        with self._condition:
            self._doomed.append(name)

    def value_for(self, name: str | None) -> StoredValue:
        """The buffer of a FakeKey being unpickled: its own file when the state is loaded, else a
        view of the file (a deep copy)."""
        if name is None:
            return StoredValue(self, None, owned=False)
        if self._restoring:
            self._named.add(name)
            return StoredValue(self, name)
        return StoredValue(self, name, owned=False)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> bool:
        """Puts the saved state back into moto's backends. False when there is none yet."""
        from moto.backends import get_backend
        from moto.core.base_backend import BackendDict

        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.objects.mkdir(exist_ok=True)
        for stale in self.root.glob(f".{STATE_FILE}.*"):
            stale.unlink()  # a save the last process did not finish
        if not self.state_file.exists():
            self._remove_unnamed_files()  # objects written before the first save was answered
            return False
        self._restoring = True
        try:
            saved = pickle.loads(self.state_file.read_bytes())
        finally:
            self._restoring = False
        for service, backends in saved.items():
            live = get_backend(service)
            dict.clear(live)
            dict.update(live, backends)
            for attribute, value in vars(backends).items():
                if attribute != "_id":
                    setattr(live, attribute, value)
            if live not in BackendDict._instances:
                BackendDict._instances.append(live)
        self._remove_unnamed_files()
        return True

    def _remove_unnamed_files(self) -> None:
        for path in self.objects.glob("*/*"):
            if f"{path.parent.name}/{path.name}" not in self._named:
                path.unlink()
        self._named = set()

    # -- saving -------------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._save_forever, name="stedi-store", daemon=True).start()

    def durable(self, app):
        """WSGI middleware: a request that may change state is answered once a save holds it."""

        def wsgi(environ, start_response):
            if not changes_state(environ):
                return app(environ, start_response)
            with self._condition:
                while self._freezing:
                    self._condition.wait()
                self._changing += 1
            try:
                result = app(environ, start_response)
                try:
                    body = list(result)
                finally:
                    getattr(result, "close", lambda: None)()
            finally:
                with self._condition:
                    self._changing -= 1
                    self._changed += 1
                    wanted = self._changed
                    self._condition.notify_all()
            try:
                self._wait_saved(wanted)
            except StoreError as failure:
                message = f"{failure}\n".encode()
                start_response("500 Internal Server Error", [("Content-Type", "text/plain"),
                                                             ("Content-Length", str(len(message)))], sys.exc_info())
                return [message]
            return body

        return wsgi

    def flush(self, timeout: float = 10.0) -> None:
        """Waits for the save of every change answered or under way (on SIGTERM: `stedi down`)."""
        with self._condition:
            self._condition.wait_for(lambda: self._saved >= self._changed and not self._changing, timeout)

    def summary(self) -> str:
        """One line for the emulator's log when it stops: what keeping the lakehouse on disk cost."""
        spent = ", ".join(f"{what} {seconds:.2f} s" for what, seconds in self.seconds.items())
        state = f"last state {self.size / 1e6:.2f} MB"
        return f"lakehouse on disk: {self._saved} changes in {self.saves} saves ({spent}); {state}"

    def _wait_saved(self, wanted: int) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._saved >= wanted or self._failure is not None)
            if self._saved < wanted:
                raise StoreError(f"the emulator could not save its state in {self.root}: {self._failure}")

    def _save_forever(self) -> None:
        while self._save_once():
            pass

    def _save_once(self) -> bool:
        """One save: new changes are held back only while the ones under way finish; the pickle is
        taken with every change held back, and written while they go on."""
        with self._condition:
            self._condition.wait_for(lambda: self._changed > self._saved)
            self._freezing = True
            started = time.perf_counter()
            self._condition.wait_for(lambda: self._changing == 0)
            wanted, doomed, self._doomed = self._changed, self._doomed, []
        pickling = time.perf_counter()
        try:
            blob = _pickled()
        except Exception as failure:  # noqa: BLE001 - every request waiting is told
            return self._failed(failure)
        finally:
            with self._condition:
                self._freezing = False
                self._condition.notify_all()
        writing = time.perf_counter()
        try:
            self._write(blob)
        except OSError as failure:
            return self._failed(failure)
        done = time.perf_counter()
        self.seconds["changes held back"] += writing - started
        self.seconds["pickling"] += writing - pickling
        self.seconds["writing"] += done - writing
        self.size = len(blob)
        for name in doomed:  # the state on disk names them no more
            self.object_path(name).unlink(missing_ok=True)
        with self._condition:
            self._saved = wanted
            self.saves += 1
            self._condition.notify_all()
        return True

    def _failed(self, failure: Exception) -> bool:
        with self._condition:
            self._failure = failure
            self._condition.notify_all()
        return False

    def _write(self, blob: bytes) -> None:
        temporary = self.root / f".{STATE_FILE}.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(blob)
        os.replace(temporary, self.state_file)


def open_store(root: Path) -> Store:
    """The store over `root`, with moto's S3 objects kept in its files; loads nothing yet."""
    global _store
    _store = Store(root)
    _keep_objects_in_files()
    return _store


def changes_state(environ) -> bool:
    """Whether a request may change state: anything but GET and HEAD, except a JSON action that
    only reads (Glue's GetTable, Secrets Manager's GetSecretValue). An IAM or STS query is a form
    POST whose action is in the body: counted as a change (they are few)."""
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return not target.rpartition(".")[2].startswith(READ_ONLY_PREFIXES) if target else True


def _pickled(attempts: int = 5) -> bytes:
    """The state, pickled. A read may still add to it meanwhile (moto makes a service's backend for
    a region on the first request that names it); the pickle is taken again if it did."""
    for _ in range(attempts - 1):
        try:
            return pickle.dumps(_state(), protocol=pickle.HIGHEST_PROTOCOL)
        except RuntimeError:  # "dictionary changed size during iteration"
            pass
    return pickle.dumps(_state(), protocol=pickle.HIGHEST_PROTOCOL)


def _state() -> dict:
    from moto.backends import get_backend

    return {service: get_backend(service) for service in SERVICES}


def _keep_objects_in_files() -> None:
    """moto's FakeKey with its bytes in a StoredValue, and pickled as the file's name.

    Every save pickles every key, and most keys never change once written (Iceberg's files are
    immutable): each key keeps its own pickle until it changes, and a save copies those bytes.
    A key changes through its attributes (a property such as `value` included) or `set_metadata`,
    the one method that changes a part of it in place; either drops its pickle."""
    import types

    from moto.s3 import models

    models.tempfile = types.SimpleNamespace(SpooledTemporaryFile=lambda *_, **__: StoredValue(_store))
    set_attribute, set_metadata = models.FakeKey.__setattr__, models.FakeKey.set_metadata

    def getstate(key) -> dict:
        state = key.__dict__.copy()
        del state["lock"]
        state.pop(_PICKLED, None)
        buffer = state.pop("_value_buffer")
        state["_stored_value"] = None if buffer.closed else buffer.name
        return state

    def setstate(key, state: dict) -> None:
        state = dict(state)
        name = state.pop("_stored_value", None)
        key.__dict__.update(state)
        key._value_buffer = _store.value_for(name)
        key.lock = threading.Lock()

    def reduce(key, protocol: int = pickle.HIGHEST_PROTOCOL):
        pickled = key.__dict__.get(_PICKLED)
        if pickled is None:
            state = getstate(key)
            names = _FIELDS.setdefault(tuple(state), tuple(state))  # one tuple for all keys: pickled once
            values = pickle.dumps(tuple(state.values()), protocol=pickle.HIGHEST_PROTOCOL)
            pickled = key.__dict__[_PICKLED] = (names, values)
        return _key_from_pickle, (models.FakeKey, *pickled)

    def changed_attribute(key, name: str, value) -> None:
        key.__dict__.pop(_PICKLED, None)
        set_attribute(key, name, value)

    def changed_metadata(key, *args, **kwargs):
        key.__dict__.pop(_PICKLED, None)
        return set_metadata(key, *args, **kwargs)

    models.FakeKey.__getstate__ = getstate
    models.FakeKey.__setstate__ = setstate
    models.FakeKey.__reduce_ex__ = reduce
    models.FakeKey.__setattr__ = changed_attribute
    models.FakeKey.set_metadata = changed_metadata
    _untrack_models()


_PICKLED = "_stedi_pickled"  # a key's own pickle, kept until it changes: its field names, its values pickled
_FIELDS: dict[tuple, tuple] = {}


def _key_from_pickle(cls, names: tuple, values: bytes):
    """A FakeKey back from its own pickle (a saved state being loaded, or a deep copy)."""
    key = cls.__new__(cls)
    key.__setstate__(dict(zip(names, pickle.loads(values), strict=True)))
    return key


def _untrack_models() -> None:
    """moto appends every model it makes to a class-wide list for its dashboard (closed here), so no
    FakeKey was ever freed: a deleted or overwritten object kept its memory, its spooled file's
    descriptor and, with this store, its file. Untracked, a key dropped from its bucket is
    collected, and its file is removed after the next save."""
    from moto.core.common_models import BaseModel

    BaseModel.__new__ = staticmethod(lambda cls, *_, **__: object.__new__(cls))
