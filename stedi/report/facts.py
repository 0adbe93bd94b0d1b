"""The report's numbers: from the run summary, the declarations (catalog/tables.toml, the jobs'
inputs) and Athena SQL over the published tables, run by `stedi query`'s DuckDB engine.

Nothing here keeps a direct identifier: quarantine reasons are grouped with their quoted values
masked, devices appear by pseudonym, customers only as counts.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field

from stedi.pipeline import jobs
from stedi.tables import lakehouse

SENSOR_DEVICES = 3  # devices of machine_learning_curated drawn in the sensor chart
QUARANTINE_REASONS = 12  # the most frequent reasons shown per source


@dataclass
class Node:
    name: str
    kind: str  # "source", "table" or "job"
    zone: str  # landing, trusted, curated; for a job, the zone it writes
    rows: int | None = None
    gate: str = ""  # "passed" (its suite ran before it was published) or ""
    snapshot: int | None = None

    @property
    def id(self) -> str:
        """A job may share its output table's name: the kind keeps them apart."""
        return f"{self.kind}:{self.name}"


@dataclass
class Step:
    """One stage of a source's row funnel: what came in, what was kept, and why the rest went."""

    source: str
    stage: str
    rows_in: int
    kept: int
    why: str

    @property
    def dropped(self) -> int:
        """A join can give more rows than came in (a reading paired with several): none dropped."""
        return max(self.rows_in - self.kept, 0)


@dataclass
class Facts:
    summary: dict
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)  # node ids
    funnel: list[Step] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)  # source, reason, records, example
    consent: list[dict] = field(default_factory=list)  # day, event, customers
    readings_by_consent: list[dict] = field(default_factory=list)  # when, readings
    sensor: list[dict] = field(default_factory=list)  # device, instant, measure, value
    history: list[dict] = field(default_factory=list)  # table, committed_at, records
    glue_runs: list[dict] = field(default_factory=list)  # the Glue Studio scripts run on the stack
    erasures: dict = field(default_factory=dict)  # counts only: people, rows removed, records suppressed


def gather(summary: dict, stack) -> Facts:
    from stedi.query.catalog import pipeline_only
    from stedi.query.duckdb_engine import DuckDBEngine
    from stedi.studio.runner import runs

    facts = Facts(summary)
    _lineage(facts)
    _funnel(facts)
    _erasures(facts)
    home = getattr(stack, "home", None)
    facts.glue_runs = runs(home) if home else []
    # the pipeline's own tables, even where a Glue Studio script's table holds the name for now
    with DuckDBEngine(stack, pipeline_only(stack.client("glue"), home)) as engine:
        def query(sql: str) -> list[dict]:
            return engine.run(sql).records()

        _quarantine(facts, query)
        _consent(facts, query)
        _sensor(facts, query)
        _history(facts, query)
    return facts


def _lineage(facts: Facts) -> None:
    """Sources -> landing tables -> jobs -> trusted and curated tables, from the declarations."""
    house, summary = lakehouse(), facts.summary
    gated = set(summary.get("gates", {}).get("tables", {}))
    for table in house.zone("landing"):
        source = f"s3://{house.bucket}/{house.landing_prefix(table)}"
        facts.nodes.append(Node(source, "source", "files", summary["landing"][table.name]["records"]))
        facts.edges.append((f"source:{source}", f"table:{table.name}"))
    for table in house.tables.values():
        facts.nodes.append(Node(table.name, "table", table.zone, summary["tables"].get(table.name),
                                "passed" if table.name in gated else "", summary.get("snapshots", {}).get(table.name)))
    for job in jobs():
        facts.nodes.append(Node(job.name, "job", job.output.zone, summary["jobs"][job.name]["rows"]))
        facts.edges += [(f"table:{name}", f"job:{job.name}") for name in job.inputs]
        facts.edges.append((f"job:{job.name}", f"table:{job.output.name}"))


def _funnel(facts: Facts) -> None:
    """Per source: records in files, quarantined, accepted, then each job that reads the table
    as its first input, with the rule it keeps rows by (the first sentence of its docstring)."""
    house, summary = lakehouse(), facts.summary
    by_first_input = {job.inputs[0]: job for job in jobs()}
    for table in house.zone("landing"):
        landing = summary["landing"][table.name]
        why = "quarantined: a record that breaks a record rule (reasons below)"
        if landing.get("suppressed"):
            why += f"; suppressed: {landing['suppressed']:,} records of erased people (Erasures below)"
        facts.funnel.append(Step(table.name, "records in files", landing["records"], landing["accepted"], why))
        current, rows = table.name, summary["tables"][table.name]
        while current in by_first_input:
            job = by_first_input[current]
            kept = summary["jobs"][job.name]["rows"]
            why = rule_of(job.name)
            dropped = {reason: n for reason, n in summary["jobs"][job.name].get("dropped", {}).items() if n}
            if dropped:
                why += "; dropped: " + ", ".join(f"{n:,} {reason}" for reason, n in dropped.items())
            crossed = summary["jobs"][job.name].get("cross_customer_pairs")
            if crossed:
                why += f"; {crossed:,} of the rows pair two different customers' readings (policy rubric)"
            facts.funnel.append(Step(table.name, f"{job.name} -> {job.output.name}", rows, kept, why))
            current, rows = job.output.name, kept


def _erasures(facts: Facts) -> None:
    """What erasure and revoked consent did, in counts (the register holds pseudonyms; none is shown)."""
    from stedi.privacy import register

    erasures = register.load()
    removed: dict[str, int] = {}
    for erasure in erasures:
        for table, rows in erasure.removed.items():
            removed[table] = removed.get(table, 0) + rows
    finished = [e.erased_at for e in erasures if e.done]
    facts.erasures = {
        "people": len({e.customer_id for e in erasures if e.done}),
        "unfinished": sum(1 for e in erasures if not e.done),
        "last": max(finished) if finished else None,
        "removed": removed,
        "suppressed": {name: entry.get("suppressed", 0) for name, entry in facts.summary["landing"].items()},
        "revocations": facts.summary.get("revocations", 0),
    }


def rule_of(job_name: str) -> str:
    """What a job keeps, in words: its module docstring's first sentence, after the arrow."""
    doc = importlib.import_module(f"spark_jobs.{job_name}").__doc__ or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.split(": ", 1)[-1].rstrip(".")


def _quarantine(facts: Facts, query) -> None:
    house = lakehouse()
    for table in house.zone("landing"):
        quarantine = house.quarantine_of(table)
        if not facts.summary["quarantine"].get(quarantine.name):
            continue
        rows = query(f"SELECT reason, count(*) AS n, min(file || ':' || CAST(line AS varchar)) AS example "
                     f"FROM {quarantine.name} GROUP BY reason")
        grouped: dict[str, dict] = {}
        for row in rows:
            reason = masked(row["reason"])
            entry = grouped.setdefault(reason, {"source": table.name, "reason": reason, "records": 0, "example": ""})
            entry["records"] += row["n"]
            entry["example"] = min(filter(None, [entry["example"], row["example"]]), default="")
        ranked = sorted(grouped.values(), key=lambda e: (-e["records"], e["reason"]))
        facts.quarantine += ranked[:QUARANTINE_REASONS]


_QUOTED_VALUE = re.compile(r"(the string|the number|the boolean|is)\s+('[^']*'|\"[^\"]*\"|\S+)")
_EMAIL = re.compile(r"\S+@\S+")
_LONG_NUMBER = re.compile(r"\d{5,}")


def masked(reason: str) -> str:
    """A quarantine reason with the record's own values masked: a reason may quote a value, and a
    landing value may be an email, a name or a phone number."""
    reason = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)} …", reason)
    return _LONG_NUMBER.sub("…", _EMAIL.sub("…", reason))


def _consent(facts: Facts, query) -> None:
    """Curated customers by day of registration and of research consent, and the trusted
    accelerometer readings taken before and after their customer's consent (the strict policy
    keeps none before it; the landing JSON is not read here, as Athena would fail on a malformed
    line that the intake quarantined)."""
    facts.consent = query(
        "SELECT day, event, count(*) AS customers FROM ("
        " SELECT date_format(from_unixtime(registrationdate / 1000), '%Y-%m-%d') AS day, 'registered' AS event"
        " FROM customers_curated UNION ALL"
        " SELECT date_format(from_unixtime(sharewithresearchasofdate / 1000), '%Y-%m-%d'), 'consented to research'"
        " FROM customers_curated) GROUP BY day, event ORDER BY day, event")
    facts.readings_by_consent = query(
        "WITH consent AS (SELECT lower(trim(email)) AS email, max(sharewithresearchasofdate) AS since"
        " FROM customer_trusted GROUP BY 1)"
        " SELECT CASE WHEN a.timestamp < c.since THEN 'before consent' ELSE 'after consent' END AS when_taken,"
        " count(*) AS readings FROM accelerometer_trusted a JOIN consent c ON lower(trim(a.user)) = c.email"
        " GROUP BY 1 ORDER BY 1")


def _sensor(facts: Facts, query) -> None:
    """For the devices with the most readings: Step Trainer distance and accelerometer magnitude
    over time (a device appears by its pseudonym, shortened)."""
    devices = [r["device_id"] for r in query(
        f"SELECT device_id, count(*) AS n FROM machine_learning_curated GROUP BY device_id "
        f"ORDER BY n DESC, device_id LIMIT {SENSOR_DEVICES}")]
    for device in devices:
        rows = query(
            "SELECT sensorreadingtime AS t, avg(distancefromobject) AS distance,"
            " avg(sqrt(x * x + y * y + z * z)) AS magnitude FROM machine_learning_curated"
            f" WHERE device_id = '{device}' GROUP BY sensorreadingtime ORDER BY t")
        for row in rows:
            for measure in ("distance", "magnitude"):
                facts.sensor.append({"device": device[:12] + "…", "instant": row["t"], "measure": measure,
                                     "value": row[measure]})


def _history(facts: Facts, query) -> None:
    """Rows per table across the snapshots kept (one per run)."""
    for name in lakehouse().iceberg_tables:
        for row in query(f'SELECT committed_at, CAST(element_at(summary, \'total-records\') AS bigint) AS records '
                         f'FROM "{name}$snapshots" ORDER BY committed_at'):
            facts.history.append({"table": name, "committed_at": row["committed_at"], "records": row["records"]})
