"""Erasure and revoked consent, end to end on the starter data: `stedi pipeline` and `stedi forget`
as a user runs them (their own processes, Spark, the emulator), on a stack and an erasure register
of this module's own, so the rest of the suite keeps every customer.

The story, once: a run; an erasure killed with SIGKILL halfway, then run again; the proof; time
travel to before it on DuckDB and on Trino; a run on the same landing files with a revocation
record added; `stedi down`, the lakehouse on disk searched for the person, `stedi discard` and a
run on a fresh stack. The expected tables come from the
plain-Python oracle (tests/oracle.py) over the landing files without the person.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stedi.privacy import register
from stedi.pseudonym import hmac_hex
from stedi.query.duckdb_engine import DuckDBEngine
from stedi.query.errors import QueryError
from stedi.tables import lakehouse
from stedi.targets import embedded_stack
from tests.conftest import PROJECT_ROOT
from tests.oracle import expected_counts, records

pytestmark = pytest.mark.e2e

SOURCES = {"customer_landing": "customer", "accelerometer_landing": "accelerometer",
           "step_trainer_landing": "step_trainer"}


def norm(email: str) -> str:
    return email.strip().lower()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """This module's own stack, register, Data Docs and report; the suite's key."""
    root = tmp_path_factory.mktemp("privacy")
    environment = {**os.environ, "STEDI_HOME": str(root / "state"), "STEDI_DOCS_DIR": str(root / "docs"),
                   "STEDI_REPORT_DIR": str(root / "report"),
                   "STEDI_TARGET": "embedded"}  # never a Docker stack that happens to run on this machine
    environment.pop(register.DIR_ENV, None)
    yield environment
    subprocess.run([sys.executable, "-m", "stedi.cli", "down"], env=environment, cwd=PROJECT_ROOT,
                   capture_output=True, timeout=120)


def stedi(env: dict, *argv: str, expect: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "stedi.cli", *argv], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=900)
    said = f"{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == expect, f"stedi {' '.join(argv)}: exit {done.returncode}\n{said}"
    return done


def run(env: dict, landing: Path) -> dict:
    summary = Path(env["STEDI_HOME"]).parent / "summary.json"
    stedi(env, "pipeline", "--landing", str(landing), "--summary", str(summary))
    return json.loads(summary.read_text())


def stack(env: dict):
    return embedded_stack.current(Path(env["STEDI_HOME"]))


def key(env: dict) -> bytes:
    return bytes.fromhex(Path(env["STEDI_KEY_FILE"]).read_text().strip())


def tables(env: dict) -> dict[str, list[dict]]:
    """Every Iceberg table's current rows (the erasures table aside)."""
    catalog = stack(env).catalog()
    house = lakehouse()
    return {
        name: catalog.load_table((house.namespace, name)).scan().to_arrow().to_pylist()
        for name in house.iceberg_tables
        if name != house.erasures.name
    }


def snapshots(env: dict) -> dict[str, list[int]]:
    catalog = stack(env).catalog()
    house = lakehouse()
    return {name: [s.snapshot_id for s in catalog.load_table((house.namespace, name)).snapshots()]
            for name in house.iceberg_tables}


def about(row: dict, person: dict, pseudonyms: set[str]) -> bool:
    """Whether a row of any table is about the person: by identifier, pseudonym or raw text."""
    values = [v for v in row.values() if isinstance(v, str)]
    return any(
        norm(v) == person["email"] or v == person["serial"] or v in pseudonyms
        or person["email"] in v.lower() or person["serial"] in v
        for v in values
    )


def without(source: Path, dest: Path, person: dict) -> Path:
    """The landing files without the person's records: what the oracle computes on."""
    for path in source.rglob("*.json"):
        kept = [line for line in path.read_text().splitlines(keepends=True)
                if person["email"] not in line.lower() and person["serial"] not in line]
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(kept))
    return dest


@pytest.fixture(scope="module")
def person(starter_data) -> dict:
    """A consenting customer with readings in every table under the strict policy (the first by email)."""
    customers = records(starter_data, "customer")
    motion = records(starter_data, "accelerometer")
    steps = {s["serialNumber"] for s in records(starter_data, "step_trainer")}
    consent = {norm(c["email"]): c for c in customers if c.get("shareWithResearchAsOfDate")}
    moving = {norm(r["user"]) for r in motion if norm(r["user"]) in consent
              and r["timestamp"] >= consent[norm(r["user"])]["shareWithResearchAsOfDate"]}
    email = sorted(e for e in moving if consent[e]["serialNumber"] in steps)[0]
    record = consent[email]
    return {"email": email, "given": record["email"], "serial": record["serialNumber"], "name": record["customerName"]}


@pytest.fixture(scope="module")
def erased(env, person, starter_data, tmp_path_factory):
    """A run, then `stedi forget` killed (SIGKILL, its JVM too) once its first table lost the
    person's rows, then `stedi forget` again."""
    first = run(env, starter_data)
    before, history = tables(env), snapshots(env)
    request = tmp_path_factory.mktemp("request") / "emails.txt"
    request.write_text(f"  {person['given'].upper()}  \n")  # as a request may come: any case, spaces
    killed = subprocess.Popen([sys.executable, "-m", "stedi.cli", "forget", "--file", str(request)], env=env,
                              cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    seen = []
    for line in killed.stderr:
        seen.append(line)
        if "row(s) removed" in line:
            os.killpg(killed.pid, signal.SIGKILL)
            break
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    half = register.load(Path(env["STEDI_HOME"]) / "privacy" / register.FILE)
    started = time.perf_counter()
    finished = stedi(env, "forget", "--file", str(request))
    return {"first": first, "before": before, "history": history, "half": half, "finished": finished,
            "seconds": time.perf_counter() - started, "after": tables(env)}


def test_a_killed_erasure_is_registered_first_and_the_next_one_finishes_it(erased, person, env):
    [half] = erased["half"]
    assert not half.done and half.customer_id == hmac_hex(person["email"], key(env))
    [done] = register.load(Path(env["STEDI_HOME"]) / "privacy" / register.FILE)
    assert done.erasure_id == half.erasure_id and done.done
    assert done.device_ids == (hmac_hex(person["serial"], key(env)),)
    assert "verified: no trace of the 1 person(s)" in erased["finished"].stdout


def test_every_table_loses_exactly_the_persons_rows_as_the_oracle_counts_them(erased, person, env, starter_data,
                                                                             tmp_path):
    expected, _ = expected_counts(without(starter_data, tmp_path, person), "strict")
    after = erased["after"]
    for name, count in expected.items():
        if name in after:
            assert len(after[name]) == count, name
    pseudonyms = {hmac_hex(person["email"], key(env)), hmac_hex(person["serial"], key(env))}
    for name, rows in erased["before"].items():
        kept = [row for row in rows if not about(row, person, pseudonyms)]
        assert sorted(map(str, after[name])) == sorted(map(str, kept)), name  # every other row as it was


def test_the_proof_finds_nothing_anywhere_and_finds_someone_still_there(erased, person, env, starter_data):
    proof = stedi(env, "forget", "--verify", "--email", person["given"], "--also", person["name"])
    assert "verified: no trace" in proof.stdout
    assert "snapshots" in proof.stderr and "objects" in proof.stderr
    emails = sorted(norm(c["email"]) for c in records(starter_data, "customer"))
    other = next(email for email in emails if email != person["email"])
    found = stedi(env, "forget", "--verify", "--email", other, expect=1)
    assert "place(s) still hold the 1 person(s)" in found.stdout and other not in found.stdout.lower()
    assert person["email"] not in (erased["finished"].stdout + erased["finished"].stderr).lower()


def test_no_snapshot_from_before_the_erasure_can_be_read_on_duckdb_or_trino(erased, env, person):
    old = erased["history"]["customer_trusted"][0]
    assert snapshots(env)["customer_trusted"] == [snapshots(env)["customer_trusted"][-1]]  # the current one only
    with DuckDBEngine(stack(env)) as duckdb:
        with pytest.raises(QueryError):
            duckdb.run(f"SELECT count(*) FROM customer_trusted FOR VERSION AS OF {old}")
        current = duckdb.run(f"SELECT count(*) FROM customer_trusted WHERE lower(trim(email)) = '{person['email']}'")
        assert current.rows == [(0,)]
    refused = stedi(env, "query", "--engine", "trino", f"SELECT count(*) FROM customer_trusted FOR VERSION AS OF {old}",
                    expect=2)
    assert str(old) in refused.stderr or "snapshot" in refused.stderr.lower()
    counted = stedi(env, "query", "--engine", "trino", "--format", "csv",
                    f"SELECT count(*) FROM customer_trusted WHERE lower(trim(email)) = '{person['email']}'")
    assert counted.stdout.strip().splitlines()[-1] == "0"


def test_an_unknown_address_says_so_and_changes_nothing(erased, env):
    register_file = Path(env["STEDI_HOME"]) / "privacy" / register.FILE
    before = register_file.read_bytes()
    unknown = stedi(env, "forget", "--email", "nobody@nowhere.test", expect=1)
    assert "nothing was changed" in unknown.stderr and "nobody@nowhere.test" not in unknown.stderr + unknown.stdout
    assert register_file.read_bytes() == before


@pytest.fixture(scope="module")
def revoked(erased, env, person, starter_data, tmp_path_factory):
    """The same landing files again, with one more: a newer record of another customer, without consent."""
    landing = tmp_path_factory.mktemp("revocation") / "landing"
    shutil.copytree(starter_data, landing)
    customers = records(starter_data, "customer")
    consenting = sorted((c for c in customers if c.get("shareWithResearchAsOfDate")
                         and norm(c["email"]) != person["email"]), key=lambda c: norm(c["email"]))
    who = consenting[0]
    newer = {k: v for k, v in who.items() if k != "shareWithResearchAsOfDate"}
    newer["lastUpdateDate"] = who["lastUpdateDate"] + 1000
    (landing / "customer" / "landing" / "customer-revocation.json").write_text(json.dumps(newer) + "\n")
    summary = run(env, landing)
    return {"summary": summary, "who": norm(who["email"]), "serial": who["serialNumber"]}


def test_the_erased_person_stays_out_of_a_run_on_the_same_landing_files(revoked, person, starter_data, env):
    mine = {name: sum(1 for r in records(starter_data, source) if about(r, person, set()))
            for name, source in SOURCES.items()}
    landing = revoked["summary"]["landing"]
    for name, count in mine.items():
        assert landing[name]["suppressed"] == count, name
        assert landing[name]["records"] == landing[name]["accepted"] + landing[name]["quarantined"] + count
    assert revoked["summary"]["erasures"]["people"] == 1
    assert "verified: no trace" in stedi(env, "forget", "--verify", "--email", person["email"]).stdout


def test_a_revocation_record_takes_the_customer_out_and_no_snapshot_keeps_them(revoked, env):
    assert revoked["summary"]["revocations"] == 1
    catalog = stack(env).catalog()
    house = lakehouse()
    key_ = key(env)
    pseudonyms = {hmac_hex(revoked["who"], key_), hmac_hex(revoked["serial"], key_)}
    for table in house.tables.values():
        if table.zone not in ("trusted", "curated"):
            continue
        iceberg = catalog.load_table((house.namespace, table.name))
        for snapshot in iceberg.snapshots():
            rows = iceberg.scan(snapshot_id=snapshot.snapshot_id).to_arrow().to_pylist()
            held = [r for r in rows if about(r, {"email": revoked["who"], "serial": revoked["serial"]}, pseudonyms)]
            assert held == [], f"{table.name}@{snapshot.snapshot_id}"


def test_the_lakehouse_on_disk_holds_no_trace_of_the_person(revoked, env, person, starter_data):
    """The lakehouse outlives `stedi down` on disk (stedi/targets/emulator_store.py): its object files
    and its saved catalog hold the person's e-mail neither as given nor normalized (names are shared
    by other customers in the starter data).
    Landing objects are JSON, so their bytes are searched as written; the Parquet files are
    compressed, and the proof reads them through Iceberg."""
    stedi(env, "down")
    store = Path(env["STEDI_HOME"]) / "lakehouse"
    files = [path for path in store.rglob("*") if path.is_file()]
    assert len(files) > 10
    traces = {person["email"].encode(), person["given"].encode()}
    assert [path for path in files if any(trace in path.read_bytes() for trace in traces)] == []
    someone = next(c["email"] for c in records(starter_data, "customer") if norm(c["email"]) != person["email"])
    assert any(someone.encode() in path.read_bytes() for path in files)  # the search sees a landing address


def test_after_the_lakehouse_is_discarded_a_fresh_stack_still_keeps_the_person_out(revoked, env, person,
                                                                                    starter_data):
    assert "deleted the lakehouse on disk" in stedi(env, "discard", "--yes").stdout
    summary = run(env, starter_data)
    assert sum(entry["suppressed"] for entry in summary["landing"].values()) > 0
    assert summary["erasures"]["rows"] == 1
    assert "verified: no trace" in stedi(env, "forget", "--verify", "--email", person["email"]).stdout


def test_the_run_report_counts_erasures_and_names_nobody(revoked, env, person):
    page = (Path(env["STEDI_REPORT_DIR"]) / "index.html").read_text()
    assert "<h2>Erasures</h2>" in page and "people erased (stedi forget)</td><td class='n' data-value='1'>1<" in page
    assert person["email"] not in page.lower() and person["serial"] not in page


def test_a_run_refuses_to_start_without_a_readable_register(revoked, env, starter_data):
    register_file = Path(env["STEDI_HOME"]) / "privacy" / register.FILE
    saved = register_file.read_bytes()
    try:
        register_file.write_bytes(saved + b"{not json\n")
        refused = stedi(env, "pipeline", "--landing", str(starter_data), expect=2)
        assert "erasure register" in refused.stderr and "nothing runs without it" in refused.stderr
    finally:
        register_file.write_bytes(saved)


def test_with_no_stack_running_an_erasure_request_is_remembered_for_the_next_run(revoked, env, starter_data):
    stedi(env, "down")
    register_file = Path(env["STEDI_HOME"]) / "privacy" / register.FILE
    before = len(register.load(register_file))
    someone = sorted(norm(c["email"]) for c in records(starter_data, "customer"))[-1]
    remembered = stedi(env, "forget", "--email", someone)
    assert "the stack is not running" in remembered.stderr and "added to the suppression list" in remembered.stderr
    assert someone not in (remembered.stdout + remembered.stderr).lower()
    assert len(register.load(register_file)) == before + 1


# What Glue gives a job script, for the erasure job run here as AWS Glue runs it: the Spark session
# on the stack's Glue catalog under the erasure job's identity (`awsglue` exists inside Glue only).
GLUE_STANDIN = {
    "__init__.py": (
        "from stedi.runtime.spark import iceberg_session, local_session\n"
        "from stedi.targets import embedded_stack\n"
        "_stack = embedded_stack.require().as_erasure_job()\n"
        "SESSION = iceberg_session(local_session('stedi-forget', iceberg=True), 'glue_catalog',\n"
        "                          _stack.spark_catalog_properties(), _stack.spark_system_properties())\n"
    ),
    "context.py": "import awsglue\nclass GlueContext:\n    def __init__(self, sc):\n"
                  "        self.spark_session = awsglue.SESSION\n",
    "job.py": "class Job:\n    def __init__(self, context): pass\n    def init(self, name, args): pass\n"
              "    def commit(self): print('committed', file=__import__('sys').stderr)\n",
    "utils.py": "def getResolvedOptions(argv, names):\n    return {n: argv[argv.index(f'--{n}') + 1] for n in names}\n",
}


def test_the_erasure_glue_job_runs_under_its_own_policy_and_its_register_is_an_object(
    revoked, env, starter_data, person, tmp_path
):
    """spark_jobs/forget.py as `make deploy` deploys it and `stedi aws forget` starts it: the request
    object, the register in the bucket, the erasure job's identity for S3, Glue and Spark alike.
    One stand-in besides `awsglue`: this Spark has no filesystem for `s3://` paths (Glue's EMRFS
    has), so the gates' reconciliation reads a copy of the landing objects through `file://`; the
    erasure itself reads and rewrites them in the bucket."""
    from stedi.lakehouse.deployment import load_config
    from stedi.lakehouse.landing import objects

    run(env, starter_data)  # the stack is up again (the last test left it down)
    lake, house, config = stack(env), lakehouse(), load_config()
    customers = records(starter_data, "customer")
    other = sorted(norm(c["email"]) for c in customers if c.get("shareWithResearchAsOfDate")
                   and norm(c["email"]) != person["email"])[1]  # [0] is the revocation test's customer
    admin = lake.s3_client()
    request = f"{config.requests_prefix}/rehearsal.txt"
    admin.put_object(Bucket=house.bucket, Key=request, Body=f"{other}\n".encode())
    secrets = lake.client("secretsmanager")
    secrets.create_secret(Name=config.secret_name, SecretString=key(env).hex())
    standin = tmp_path / "glue" / "awsglue"
    standin.mkdir(parents=True)
    for name, text in GLUE_STANDIN.items():
        (standin / name).write_text(text)
    erasure = lake.as_erasure_job()
    job_env = {k: v for k, v in env.items() if k != "STEDI_KEY_FILE"}  # the key comes from Secrets Manager
    job_env.update(erasure.environment(), PYTHONPATH=f"{standin.parent}{os.pathsep}{PROJECT_ROOT}")
    copy = tmp_path / "landing"
    for table in house.zone("landing"):
        for name in objects(admin, house.bucket, house.landing_prefix(table)):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_bytes(admin.get_object(Bucket=house.bucket, Key=name)["Body"].read())
    argv = ["--JOB_NAME", "stedi-forget", "--policy", "strict", "--landing_root", copy.as_uri(),
            "--pseudonym_key_secret", config.secret_name, "--erasures_uri", f"s3://{house.bucket}/{config.erasures_key}",
            "--request_key", request]
    try:
        done = subprocess.run([sys.executable, "spark_jobs/forget.py", *argv], env=job_env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=900)
    finally:
        secrets.delete_secret(SecretId=config.secret_name, ForceDeleteWithoutRecovery=True)
    assert done.returncode == 0, done.stderr[-4000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert sum(outcome["removed"].values()) > 0 and sum(outcome["landing"].values()) > 0
    assert other not in (done.stdout + done.stderr).lower()  # nor in the job's log
    assert "committed" in done.stderr
    listed = admin.list_objects_v2(Bucket=house.bucket, Prefix=config.requests_prefix).get("KeyCount", 0)
    assert listed == 0  # the addresses left with the request
    kept = admin.get_object(Bucket=house.bucket, Key=config.erasures_key)["Body"].read().decode()
    (tmp_path / register.FILE).write_text(kept)
    [entry] = register.load(tmp_path / register.FILE)
    assert entry.customer_id == hmac_hex(other, key(env)) and entry.done and other not in kept
    assert "verified: no trace" in stedi(env, "forget", "--verify", "--email", other).stdout
    with pytest.raises(Exception, match="AccessDenied"):  # its policy: nothing beyond what erasure needs
        erasure.s3_client().put_object(Bucket=house.bucket, Key=f"{config.docs_prefix}/x.html", Body=b"x")
