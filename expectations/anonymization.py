"""Anonymization: no direct identifier reaches a curated table (nor the erasures table).

Checked on the data, not on the declaration (a declaration can be wrong):
- no column carries the name of an identifier declared anywhere (`pii` columns: email,
  customerName, phone, birthDay, serialNumber, user);
- no text value looks like an email address or a phone number;
- pseudonym columns hold 64-hex-digit HMACs, and no pseudonym equals a raw value of the
  identifier it replaces (a job that forgot to hash would pass the format check otherwise).
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.context import Audit, Suite

# An e-mail address anywhere in a value. One character before the @ finds the same values as
# `[^@\s]+@` would, and stays linear: `+` there made Python's regex engine retry every start of a
# 64-digit HMAC (0.4 s for 33,000 of them, against 0.04 s).
EMAIL = r"[^@\s]@[^@\s]+\.[A-Za-z]{2,}"
# A whole value made of a phone number's characters: anchored, because a 64-digit hex HMAC
# often holds ten decimal digits in a row.
PHONE = r"^\s*\+?[0-9][0-9 ().-]{6,}[0-9]\s*$"
HMAC_HEX = r"^[0-9a-f]{64}$"


def suites(audit: Audit) -> list[Suite]:
    table, house = audit.table, audit.house
    if table.zone not in ("curated", "privacy"):
        return []
    identifiers = sorted({c.name for t in house.tables.values() for c in t.columns if c.pii})
    on_table = []
    for column in table.columns:
        if column.type == "string":
            on_table.append(gxe.ExpectColumnValuesToNotMatchRegexList(column=column.name, regex_list=[EMAIL, PHONE]))
        if column.pseudonym_of:
            on_table.append(gxe.ExpectColumnValuesToMatchRegex(column=column.name, regex=HMAC_HEX))
    columns = Suite(
        f"{table.name}.columns",
        [gxe.ExpectColumnValuesToNotBeInSet(column="column_name", value_set=identifiers)],
        view="SELECT column_name FROM columns",
        extra={"columns": audit.engine.from_rows({"column_name": list(audit.engine.columns(audit.staged))})},
    )
    return [Suite(table.name, on_table), columns, *_not_raw(audit)]


def _not_raw(audit: Audit) -> list[Suite]:
    """For each pseudonym column, a flag per row: does its value equal a raw identifier?"""
    table, house = audit.table, audit.house
    pseudonyms = [c for c in table.columns if c.pseudonym_of]
    if not pseudonyms:
        return []
    selects, joins, checks, uses = [], [], [], set()
    for i, column in enumerate(pseudonyms):
        sources = [t for t in house.zone("landing") if column.pseudonym_of in t.column_names]
        uses.update(t.name for t in sources)
        raw = " UNION ".join(f"SELECT {column.pseudonym_of} AS raw FROM {t.name}" for t in sources)
        flag = f"{column.name}_is_a_raw_{column.pseudonym_of}"
        # UNION removes duplicates, so the join matches at most once and keeps the row count.
        joins.append(f"LEFT JOIN ({raw}) r{i} ON t.{column.name} = r{i}.raw")
        selects.append(f"r{i}.raw IS NOT NULL AS {flag}")
        checks.append(gxe.ExpectColumnValuesToBeInSet(column=flag, value_set=[False]))
    shown = ", ".join(f"t.{c.name}" for c in pseudonyms)
    view = f"SELECT {shown}, {', '.join(selects)} FROM t {' '.join(joins)}"
    return [Suite(f"{table.name}.pseudonyms", checks, view=view, uses=tuple(sorted(uses)))]
