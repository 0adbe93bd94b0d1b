"""`stedi forget`: one person's rows leave every table of every zone, and every copy behind them.

The order is what makes a killed erasure safe to finish: the register learns the person first
(from then on every run drops them at the door), then the landing objects are rewritten without
their records, then each Iceberg table loses their rows (one commit per table, through the gate
flow: stage on the audit branch, check, publish), then every older snapshot, branch and tag is
expired and the files only those used are deleted, and only then is the erasure marked done.
Running it again (or the next pipeline run) repeats what a killed one left undone.

The address is never written anywhere: the register and `stedi.erasures` hold keyed pseudonyms,
the progress lines name erasures by id, and the statements carry the values as parameters.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from stedi.gates import flow, published
from stedi.lakehouse.landing import objects
from stedi.privacy import register
from stedi.privacy.suppression import Suppression
from stedi.pseudonym import hmac_hex
from stedi.runtime import engine, runlock, settings
from stedi.tables import Lakehouse, Table, lakehouse


class UnknownPeople(LookupError):
    """None of the addresses names anyone in the lakehouse; nothing was changed."""


@dataclass
class Person:
    """What the erasure knows of one requested address while it runs (in memory only)."""

    email: str
    customer_id: str
    serials: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    records: int = 0  # landing records found about them


@dataclass
class Outcome:
    erased: list[register.Erasure]
    unknown: int
    removed: dict[str, int]
    landing: dict[str, int]
    expired_files: int
    seconds: float
    searchable: set[str] = field(default_factory=set, repr=False)  # their names and phones no one else has
    shared: int = 0  # values of theirs other customers' records hold too (not searched for)
    stored: bool = True  # False: no stack ran, so nothing was stored to erase (the list keeps them out)

    def handed(self) -> dict:
        """What the command needs of it, as plain data (it may cross a pipe from a container)."""
        return {
            "searchable": sorted(self.searchable),
            "shared": self.shared,
            "removed": self.removed,
            "landing": self.landing,
            "expired_files": self.expired_files,
            "seconds": round(self.seconds, 1),
            "unknown_addresses": self.unknown,
            "stored": self.stored,
        }


def normalized(email: str) -> str:
    return email.strip().lower()


def addresses(text: str) -> list[str]:
    """The addresses of a request: one a line, blank lines ignored (a `--file`, an AWS request object)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class EmbeddedSite:
    """Where an erasure runs on the embedded stack: its bucket and Spark in this process on its
    tables, all under the erasure job's identity and the policy `make deploy` gives that job on
    AWS (stedi/lakehouse/job_policy.py), so a grant it lacks fails here first."""

    def __init__(self, stack):
        self.stack = stack.as_erasure_job()

    def s3_client(self):
        return self.stack.s3_client()

    def runtime(self, policy: str, progress):
        from stedi.runtime.params import JobParams
        from stedi.targets.embedded import EmbeddedTarget

        progress("starting Spark (local[2])")
        params = JobParams.from_settings(policy)
        return EmbeddedTarget().runtime("stedi-forget", params, gates=True, progress=progress, erasure=True)

    def close(self, runtime) -> None:
        runtime.spark.stop()
        _clear_intake_spool()  # landing records the erasure's reads spooled


class ContainerSite:
    """Where an erasure runs in the Docker stack's Spark container (`stedi forget --target docker`
    sends it there): LocalStack's bucket and the container's Spark on the stack's catalog."""

    def __init__(self):
        from stedi.targets.container import CatalogConf, spark_defaults

        self.conf = CatalogConf.from_conf(spark_defaults().get)

    def s3_client(self):
        return self.conf.s3_client()

    def runtime(self, policy: str, progress):
        from stedi.runtime.params import JobParams
        from stedi.targets.container import container_runtime

        return container_runtime("stedi-forget", JobParams.from_settings(policy), gates=True, progress=progress)

    def close(self, runtime) -> None:
        runtime.spark.stop()


class GlueSite:
    """Where an erasure runs as the AWS Glue job `make deploy` deploys (spark_jobs/forget.py): the
    bucket through the job role's credentials, and the job's Spark on the Glue Data Catalog."""

    def __init__(self, argv: list[str], extra: tuple[str, ...]):
        self.argv, self.extra = argv, extra

    def s3_client(self):
        import boto3

        return boto3.client("s3")

    def runtime(self, policy: str, progress):
        from stedi.targets.aws import AwsTarget

        return AwsTarget().runtime("forget", argv=self.argv, extra=self.extra, suppress=False)

    def close(self, runtime) -> None:
        runtime.finish()  # Glue's job commit; Glue stops its own Spark


def forget(
    emails: list[str],
    progress=print,
    site=None,
    policy: str = settings.DEFAULT_POLICY,
    house: Lakehouse | None = None,
) -> Outcome:
    """Erase every person named by `emails` (see the module docstring), on the running embedded
    stack unless another `site` is given. `policy` is the one the tables were published under: the
    gates check each table's new version by its rules."""
    from stedi.targets import embedded_stack

    house = house or lakehouse()
    started = time.perf_counter()
    with runlock.hold(settings.state_home(), "stedi forget", wait_seconds=runlock.default_wait(), progress=progress):
        earlier = register.load()  # refuses when the register cannot be read
        # The gates keep the tables they joined against in memory (stedi/gates/published.py): the warm
        # engine goes, with every copy it holds of the rows about to be erased, and so do this process's.
        engine.stop()
        published.KEPT.clear()
        _clear_intake_spool()  # and a killed run's spooled landing records (stedi/intake/spool.py)
        key = settings.pseudonym_key()
        people = {hmac_hex(normalized(e), key): Person(normalized(e), hmac_hex(normalized(e), key)) for e in emails}
        if site is None:
            stack = embedded_stack.current()
            if stack is None:
                return _remember_only(people, earlier, progress, started)
            site = EmbeddedSite(stack)
        finder = Suppression(key, people)
        finder.needles = [p.email.encode() for p in people.values()]
        others = _find(site, house, finder, people)
        devices = {c: {hmac_hex(s, key) for s in p.serials} for c, p in people.items()}
        for erasure in earlier:  # a killed erasure's devices, whose records may be gone from landing already
            if erasure.customer_id in devices:
                devices[erasure.customer_id] |= set(erasure.device_ids)
        runtime = site.runtime(policy, progress)
        if runtime.gate is not None:
            runtime.gate.expected_rows = {}  # the counts known for a recognized data set: an erasure changes them
        try:
            for customer_id, found in _devices_in_tables(runtime, house, Suppression(key, people)).items():
                devices[customer_id] |= found  # where the landing records are gone (an erasure cut short)
            already = {e.customer_id for e in earlier}
            held = _held(runtime, house, Suppression(key, people, {d for ds in devices.values() for d in ds}))
            known = {c for c, p in people.items() if p.records or c in already or c in held}
            unknown = len(people) - len(known)
            if unknown:
                progress(
                    f"{unknown} of {len(people)} address(es) name nobody in the lakehouse: nothing changed for them"
                )
            if not known:
                raise UnknownPeople(
                    f"no record in the lakehouse names {'this address' if len(people) == 1 else 'these addresses'}: "
                    "nothing was changed"
                )
            people = {c: p for c, p in people.items() if c in known}
            matcher = Suppression(key, people, {d for c in known for d in devices[c]})
            serials = {s for p in people.values() for s in p.serials}
            if {hmac_hex(s, key) for s in serials} == matcher.device_ids:  # every pseudonym's clear value known
                matcher.needles = [v.lower().encode() for v in {p.email for p in people.values()} | serials]
            runtime.io.suppression = matcher
            pending = _pending(earlier, people, devices)
            progress(f"erasure {', '.join(e.erasure_id[:8] for e in pending)}: {len(people)} person(s) registered")
            landing = _rewrite_landing(site, house, matcher, progress)
            removed = _delete_rows(runtime, house, matcher, progress)
            expired = _expire_history(runtime.io, progress)
            # (a killed attempt's deletions are not counted again: what this attempt removed is recorded)
            done = register.finish(pending, {**landing, **removed})
            flow.publish(runtime.io, house.erasures, register.rows(register.load()), runtime.gate)
        finally:
            site.close(runtime)
        seconds = time.perf_counter() - started
        progress(
            f"erased {len(people)} person(s) in {seconds:.1f}s: {sum(landing.values()) + sum(removed.values()):,} "
            f"records and rows removed, {expired} files deleted with the history that held them"
        )
        values = {v.lower() for p in people.values() for v in p.names | p.phones}
        shared = {v for v in values if any(v in line for line in others)}
        return Outcome(done, unknown, removed, landing, expired, seconds, values - shared, len(shared))


def _clear_intake_spool() -> None:
    from stedi.targets.embedded import intake_spool

    intake_spool().clear()


def _remember_only(people: dict, earlier, progress, started) -> Outcome:
    """The stack is down: nothing is stored to erase, but the next run must keep them out."""
    already = {e.customer_id for e in earlier}
    new = {c: () for c in people if c not in already}
    erasures = register.begin(new) if new else []
    done = register.finish(erasures, {}) if erasures else []
    progress(
        f"the stack is not running, so no table holds anyone: {len(new)} person(s) added to the suppression list; "
        "the next run keeps them out (and learns their devices from their customer records)"
    )
    return Outcome(done, 0, {}, {}, 0, time.perf_counter() - started, stored=False)


def _pending(earlier, people: dict, devices: dict) -> list[register.Erasure]:
    """This request's register entries: an unfinished one of a killed `forget` is taken over."""
    unfinished = {e.customer_id: e for e in earlier if not e.done}
    pending, new = [], {}
    for customer_id in people:
        if customer_id in unfinished:
            entry = unfinished[customer_id]
            extra = devices[customer_id] - set(entry.device_ids)
            pending.append(register.add_devices(entry, extra) if extra else entry)
        else:
            new[customer_id] = tuple(devices[customer_id])
    return pending + (register.begin(new) if new else [])


# ---------------------------------------------------------------------------- finding them


def _find(site, house: Lakehouse, finder: Suppression, people: dict[str, Person]) -> list[str]:
    """Each person's serial numbers, names and phones from the records that name them in the
    landing objects, and how many such records there are; returns the other records that hold
    names and phones (lower-cased), to tell which of the person's are theirs alone."""
    s3 = site.s3_client()
    others: list[str] = []
    for table in house.zone("landing"):
        personal = any(c.pii and not c.identifies for c in table.columns)
        for key in objects(s3, house.bucket, house.landing_prefix(table)):
            text = _text(s3.get_object(Bucket=house.bucket, Key=key)["Body"].read())
            if not personal and not any(n.decode() in text.lower() for n in finder.needles or []):
                continue  # (the finder knows every address in clear: a file without one names nobody)
            for line in text.splitlines():
                if finder.text_hits(line):
                    _note(line, table, finder, people)
                elif personal:
                    others.append(line.lower())
    return others


def _note(line: str, table: Table, finder: Suppression, people: dict[str, Person]) -> None:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return
    by_kind = {c.identifies: c.name for c in table.columns if c.identifies}
    email = record.get(by_kind.get("email", ""))
    if not isinstance(email, str) or not finder.names_person(email):
        return
    person = people[finder.pseudonyms(email)[0]]
    person.records += 1
    serial = record.get(by_kind.get("serialNumber", ""))
    if isinstance(serial, str):
        person.serials.add(serial)
    for column in table.columns:
        value = record.get(column.name)
        if column.pii and not column.identifies and isinstance(value, str) and value:
            (person.phones if "phone" in column.name.lower() else person.names).add(value)


def _text(data: bytes) -> str:
    """A landing object as text (gzip inflated); bytes that are not text read as none."""
    import gzip

    try:
        return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError):
        return ""


# ---------------------------------------------------------------------------- the copies


def _rewrite_landing(site, house: Lakehouse, matcher: Suppression, progress) -> dict[str, int]:
    """Every landing object without the erased records: the one exception to "landing is never
    modified", logged object by object. Older versions go too where the bucket keeps versions."""
    s3 = site.s3_client()
    versioned = s3.get_bucket_versioning(Bucket=house.bucket).get("Status") == "Enabled"
    removed: dict[str, int] = {}
    for table in house.zone("landing"):
        for key in objects(s3, house.bucket, house.landing_prefix(table)):
            data = s3.get_object(Bucket=house.bucket, Key=key)["Body"].read()
            scrubbed, gone = matcher.scrub(data)
            if not gone:
                continue
            s3.put_object(Bucket=house.bucket, Key=key, Body=scrubbed)
            removed[table.name] = removed.get(table.name, 0) + gone
            progress(
                f"rewrote s3://{house.bucket}/{key} without {gone:,} erased record(s) "
                "(landing is otherwise never modified)"
            )
            if versioned:
                _delete_older_versions(s3, house.bucket, key)
    return removed


def _delete_older_versions(s3, bucket: str, key: str) -> None:
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for version in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        if version["Key"] == key and not version.get("IsLatest"):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def _targets(house: Lakehouse) -> list[Table]:
    """The Iceberg tables that may hold a person: quarantines, then trusted, then curated."""
    order = {"landing": 0, "trusted": 1, "curated": 2}
    tables = [t for t in house.iceberg_tables.values() if t.zone in order]
    return sorted(tables, key=lambda t: order[t.zone])


def searched(table: Table) -> dict[str, str]:
    """How each column of a table is searched for an erased person, from the declaration alone:
    by the pseudonym it holds ("customer_ids", "device_ids"), by hashing its values as the intake
    does ("email", "serialNumber"), or by the tokens of its raw text ("text", a quarantined record)."""
    how = {}
    for column in table.columns:
        if column.pseudonym_of:
            how[column.name] = "customer_ids" if column.pseudonym_of == "email" else "device_ids"
        elif column.identifies:
            how[column.name] = column.identifies
        elif column.pii and table.quarantine_of:
            how[column.name] = "text"
    return how


def matching_values(spark, identifier: str, table: Table, matcher: Suppression) -> dict[str, list[str]]:
    """Per column, the values in the table that name an erased person or device. Values are
    recognized by their keyed pseudonyms (the intake's test), so nothing but the pseudonyms need
    be known: an erasure killed after the landing objects were rewritten is finished all the same."""
    tests = {"email": matcher.names_person, "serialNumber": matcher.names_device, "text": matcher.text_hits}
    found: dict[str, list[str]] = {}
    for column, how in searched(table).items():
        if how in ("customer_ids", "device_ids"):
            values = sorted(getattr(matcher, how))
        else:
            distinct = spark.table(identifier).select(column).distinct().toArrow().column(0).to_pylist()
            values = sorted(v for v in distinct if v is not None and tests[how](v))
        if values:
            found[column] = values
    return found


def condition(spark, found: dict[str, list[str]]) -> str:
    """The predicate of the rows holding those values. The values sit in temporary views, never in
    a statement's text (which Spark prints with an error; the Iceberg SQL extensions' parser binds
    no named parameter)."""
    parts = []
    for i, (column, values) in enumerate(sorted(found.items())):
        view = f"stedi_erase_{i}"
        spark.createDataFrame([(v,) for v in values], "v string").createOrReplaceTempView(view)
        parts.append(f"`{column}` IN (SELECT v FROM {view})")
    return " OR ".join(parts)


def _held(runtime, house: Lakehouse, matcher: Suppression) -> set[str]:
    """The people (customer pseudonyms) some Iceberg table holds a row about: by email or pseudonym."""
    held: set[str] = set()
    for identifier, table in _present(runtime.io, house):
        found = matching_values(runtime.spark, identifier, table, matcher)
        for column, how in searched(table).items():
            if how == "email":
                held |= {matcher.pseudonyms(v)[0] for v in found.get(column, [])}
            elif how == "customer_ids" and found.get(column):
                present = runtime.spark.table(identifier).where(condition(runtime.spark, {column: found[column]}))
                held |= set(present.select(column).distinct().toArrow().column(0).to_pylist())
    return held


def _devices_in_tables(runtime, house: Lakehouse, finder: Suppression) -> dict[str, set[str]]:
    """Each person's device pseudonyms as the tables pair them: a customer record's serial number
    beside its email, a curated customer's `device_id` beside its `customer_id`."""
    spark, found = runtime.spark, {}
    for identifier, table in _present(runtime.io, house):
        how = {kind: column for column, kind in searched(table).items()}
        if "email" in how and "serialNumber" in how:
            values = matching_values(spark, identifier, table, finder).get(how["email"], [])
            pairs = spark.table(identifier).where(condition(spark, {how["email"]: values})) if values else None
            for row in pairs.select(how["email"], how["serialNumber"]).collect() if pairs is not None else []:
                if row[1] is not None:
                    found.setdefault(finder.pseudonyms(row[0])[0], set()).add(finder.pseudonyms(row[1])[1])
        elif "customer_ids" in how and "device_ids" in how:
            ours = spark.table(identifier).where(condition(spark, {how["customer_ids"]: sorted(finder.customer_ids)}))
            for row in ours.select(how["customer_ids"], how["device_ids"]).collect():
                if row[1] is not None:
                    found.setdefault(row[0], set()).add(row[1])
    return found


def _present(io, house: Lakehouse) -> list[tuple[str, Table]]:
    existing = set(io.existing())
    return [(io.identifier(t), t) for t in _targets(house) if io.identifier(t) in existing]


def _delete_rows(runtime, house: Lakehouse, matcher: Suppression, progress) -> dict[str, int]:
    """One commit per table: their rows deleted on the audit branch, gated, then published.

    A derived table whose rows their identifiers cannot all find fails its gate's lineage after
    the delete: under the rubric policy machine_learning_curated pairs one customer's device with
    another's motion. Such a table is rebuilt by its own job from its inputs, already without them
    (one commit, through the same gate): exactly what the next run would publish."""
    from stedi.gates.gate import GateFailed
    from stedi.pipeline import jobs

    removed: dict[str, int] = {}
    writers = {job.output.name: job for job in jobs()}
    for identifier, table in _present(runtime.io, house):
        found = matching_values(runtime.spark, identifier, table, matcher)
        before = runtime.spark.table(identifier).count() if table.name in writers else None
        try:
            written, gone = (
                flow.remove(runtime.io, table, condition(runtime.spark, found), runtime.gate) if found else (None, 0)
            )
        except GateFailed:
            if table.name not in writers:
                raise
            result = writers[table.name].run(runtime.io, runtime.params, runtime.gate)
            written, gone = None, before - result.rows
            progress(
                f"{house.namespace}.{table.name}: rebuilt by its job without them "
                f"({gone:,} row(s) fewer, {result.rows:,} left)"
            )
        if gone:
            removed[table.name] = gone
            if written is not None:
                progress(f"{house.namespace}.{table.name}: {gone:,} row(s) removed, {written.rows:,} left")
    return removed


def _expire_history(io, progress) -> int:
    """Every table keeps its current snapshot only: no branch, tag or older snapshot still holds
    an erased person, and the files only those used are deleted (Iceberg's own procedures)."""
    files = io.expire_history()
    progress(f"history expired on every table: each keeps its current snapshot only ({files} files deleted)")
    return files
