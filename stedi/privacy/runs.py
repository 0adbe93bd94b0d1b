"""What every pipeline run does for privacy (stedi/pipeline.py calls these).

- Before the landing tables are published: if erased people's records were dropped (at upload or
  at the intake), the counts known for a recognized data set no longer hold, so the gate stops
  expecting them, and says so.
- The summary counts records in files = accepted + quarantined + suppressed, per source.
- After the landing step: devices learnt from suppressed customer records join the register, and
  `stedi.erasures` is republished from the register, empty when nobody was erased (the register
  outlives the stack; the table is how the lakehouse's users see it).
- Consent revoked as data (a newer customer record without research consent, or with a later
  consent date: spark_jobs/customer_landing_to_trusted.py): the jobs leave the readings it no
  longer covers out of trusted and curated, and at the end of the run every older snapshot of
  those tables, which still holds them, is expired. Retention never keeps revoked data.
"""

from __future__ import annotations

from stedi.gates import flow
from stedi.privacy import register
from stedi.pseudonym import hmac_hex

CONSENT = "shareWithResearchAsOfDate"  # as expectations/consent.py


def before_publishing(io, intakes: dict, gate, progress) -> None:
    suppressed = sum(i.suppressed for i in intakes.values()) + sum(io.suppression.withheld.values())
    if not suppressed:
        return
    progress(f"suppressed {suppressed:,} records of erased people (stedi.erasures)")
    if gate is not None and gate.expected_rows:
        gate.expected_rows = {}
        progress("the counts known for this data set no longer apply: erased people's records are not in it")


def after_intake(io, house, summary: dict, gate, progress) -> None:
    if house.erasures is None:
        return
    erasures = register.load()
    learnt = {customer: sorted(devices) for customer, devices in io.suppression.learnt.items()}
    for erasure in erasures:
        new = set(learnt.get(erasure.customer_id, ())) - set(erasure.device_ids)
        if new:
            register.add_devices(erasure, new)
            progress(f"erasure {erasure.erasure_id[:8]}: {len(new)} more device(s) of the person now suppressed")
    written = flow.publish(io, house.erasures, register.rows(register.load()), gate)
    summary["erasures"] = {
        "rows": written.rows,  # of stedi.erasures (the run's own tables are in summary["tables"])
        "snapshot": written.snapshot_id,
        "people": len({e.customer_id for e in erasures}),
        "unfinished": sum(1 for e in erasures if not e.done),
        "suppressed": sum(entry.get("suppressed", 0) for entry in summary["landing"].values()),
        "learnt": learnt,  # pseudonyms only: a run elsewhere hands them back to the host's register
    }


def consents(io, house, key: bytes) -> dict[str, int]:
    """The research consents in force as published before this run: customer pseudonym -> date
    (keyed, so no address is held longer than needed); empty on a fresh stack."""
    table = _consent_table(house)
    if table is None or not io.exists(table.name):  # nothing published yet (a fresh stack): nothing to revoke
        return {}
    rows = io.read_published(table.name)
    rows = rows.toArrow() if hasattr(rows, "toArrow") else rows
    email = next(c.name for c in table.columns if c.identifies == "email")
    return _by_customer(rows.select([email, CONSENT]).to_pylist(), email, key)


def holds_consents(house, names: set[str]) -> bool:
    """Whether writing these tables can change a consent (a partial run that does not write the
    customers' trusted table cannot revoke one, and need not read the consents)."""
    table = _consent_table(house)
    return table is not None and table.name in names


def after_jobs(io, house, before: dict[str, int], key: bytes, summary: dict, progress) -> None:
    """Expire the trusted and curated history when a customer's consent was revoked or moved later
    by a record of this run's landing data (a customer merely absent from it is not a revocation)."""
    table = _consent_table(house)
    if not before or table is None:
        return
    email = next(c.name for c in table.columns if c.identifies == "email")
    after = consents(io, house, key)
    landed = {hmac_hex(v.strip().lower(), key) for v in io.intake(table.like).accepted.column(email).to_pylist() if v}
    revoked = [c for c, date in before.items() if c in landed and (c not in after or after[c] > date)]
    if not revoked:
        return
    names = {t.name for t in house.tables.values() if t.zone in ("trusted", "curated")}
    files = io.expire_history(names)
    summary["revocations"] = len(revoked)
    progress(
        f"consent revoked or moved later for {len(revoked)} customer(s): the readings it no longer covers left "
        f"trusted and curated, and their older snapshots are expired ({files} files deleted)"
    )


def _consent_table(house):
    """The trusted table of customers: it names people by email and carries their consent."""
    for table in house.zone("trusted"):
        if CONSENT in table.column_names and any(c.identifies == "email" for c in table.columns):
            return table
    return None


def _by_customer(rows: list[dict], email: str, key: bytes) -> dict[str, int]:
    latest: dict[str, int] = {}
    for row in rows:
        if row[email] and row[CONSENT]:
            customer = hmac_hex(row[email].strip().lower(), key)
            latest[customer] = max(latest.get(customer, 0), row[CONSENT])
    return latest
