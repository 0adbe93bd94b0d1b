"""The suppression list in use: an erased person's records are dropped at the door.

Built from the erasure register (register.py), which holds keyed pseudonyms only, so a record is
recognized by hashing what it holds, never by comparing it with a stored identifier:
- a parsed record by its identifier columns (`identifies` in catalog/tables.toml): an email
  trimmed and lower-cased, a serial number as it is, exactly as the curated pseudonyms are made;
- raw text (a quarantined record, a landing line) by every token in it, JSON strings and bare
  words alike, so a record too broken to parse is still recognized.

The same tests drive the intake (`mask`, `apply`), the rewriting of landing objects (`scrub`) and the
proof (proof.py), so what is dropped at the door and what is looked for afterwards cannot differ.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace

from stedi.privacy import register
from stedi.pseudonym import hmac_hex
from stedi.runtime import settings

# Neither pattern crosses a line, so the tokens of a whole file are the union of its lines' tokens.
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_BARE = re.compile(r'[^\s"\',:;=(){}\[\]]+')
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")  # a bare number names nobody


class Suppression:
    """Keyed pseudonyms of erased people (their emails) and devices (serial numbers)."""

    def __init__(self, key: bytes, customer_ids=(), device_ids=()):
        self.key = key
        self.customer_ids = set(customer_ids)
        self.device_ids = set(device_ids)
        self.learnt: dict[str, set[str]] = {}  # customer pseudonym -> device pseudonyms found beside it
        self.withheld: dict[str, int] = {}  # landing table -> records kept out of the bucket at upload
        # The clear values behind every pseudonym, lower-cased, when whoever built the list knows them
        # (an erasure under way does): a file holding none of them holds nobody, found at C speed.
        self.needles: list[bytes] | None = None
        self._seen: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def current(cls, key: bytes | None = None) -> Suppression:
        """The register's erasures, finished or under way (an unfinished one suppresses already)."""
        erasures = register.load()
        if not erasures:  # nothing to suppress, and no key needed (a Glue job has no register)
            return cls(b"")
        key = key if key is not None else settings.pseudonym_key()
        return cls(key, {e.customer_id for e in erasures}, {d for e in erasures for d in e.device_ids})

    def __bool__(self) -> bool:
        return bool(self.customer_ids or self.device_ids)

    def fingerprint(self) -> str:
        """Changes whenever the list does (what was found clean under it must be checked again)."""
        import hashlib

        text = "\n".join(sorted(self.customer_ids) + ["--"] + sorted(self.device_ids))
        return hashlib.sha256(text.encode()).hexdigest()

    # ------------------------------------------------------------------ one value

    def pseudonyms(self, value: str) -> tuple[str, str]:
        """(as an email, as a serial number): the two keyed pseudonyms a value could have."""
        if value not in self._seen:
            self._seen[value] = (hmac_hex(value.strip().lower(), self.key), hmac_hex(value, self.key))
        return self._seen[value]  # type: ignore[return-value]

    def names_person(self, value: str | None) -> bool:
        return value is not None and self.pseudonyms(value)[0] in self.customer_ids

    def names_device(self, value: str | None) -> bool:
        return value is not None and self.pseudonyms(value)[1] in self.device_ids

    def hits(self, value: str | None) -> bool:
        return self.names_person(value) or self.names_device(value)

    def text_hits(self, text: str | None) -> bool:
        """Whether any token of raw text is an erased person's email or device's serial number."""
        if not text or not self:
            return False
        return any(self.hits(token) for token in tokens(text))

    # ------------------------------------------------------------------ rows and files

    def mask(self, table, rows):
        """A boolean Arrow array: True where a row of `table` is about an erased person or device.
        A customer row dropped by its email teaches the list that customer's serial number."""
        import pyarrow as pa
        import pyarrow.compute as pc

        drop = pa.array([False] * rows.num_rows, pa.bool_())
        by_kind = {c.identifies: c.name for c in table.columns if c.identifies and c.name in rows.column_names}
        for kind, name in by_kind.items():
            test = self.names_person if kind == "email" else self.names_device
            values = [v for v in pc.unique(rows.column(name)).to_pylist() if v is not None]
            found = [v for v in values if test(v)]
            if found:
                drop = pc.or_(drop, pc.fill_null(pc.is_in(rows.column(name), pa.array(found, pa.string())), False))
        if "email" in by_kind and "serialNumber" in by_kind:
            self._learn(rows.filter(drop), by_kind["email"], by_kind["serialNumber"])
        return drop

    def _learn(self, dropped, email: str, serial: str) -> None:
        for row in dropped.select([email, serial]).to_pylist():
            if row[serial] is None or row[email] is None:
                continue
            device = self.pseudonyms(row[serial])[1]
            self.device_ids.add(device)
            self.learnt.setdefault(self.pseudonyms(row[email])[0], set()).add(device)

    def apply(self, table, intake):
        """The intake without the quarantined records that name an erased person (the accepted ones
        were withheld as they were read, through `mask`); they are counted, never silently lost:
        records in files = accepted + quarantined + suppressed."""
        if not self:
            return intake
        import pyarrow as pa
        import pyarrow.compute as pc

        raw = intake.quarantined.column("raw").to_pylist()
        drop_raw = pa.array([self.text_hits(text) for text in raw], pa.bool_())
        gone_raw = pc.sum(drop_raw).as_py() or 0
        if not gone_raw:
            return intake
        return replace(
            intake,
            quarantined=intake.quarantined.filter(pc.invert(drop_raw)),
            suppressed=intake.suppressed + gone_raw,
        )

    def scrub(self, data: bytes) -> tuple[bytes, int]:
        """A landing object's bytes without the lines about erased people, and how many went
        (gzip stays gzip). Bytes that are not text lines are returned as they are."""
        packed = data[:2] == b"\x1f\x8b"
        try:
            text = (gzip.decompress(data) if packed else data).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError):
            return data, 0
        if self.needles is not None and not any(n in text.lower().encode() for n in self.needles):
            return data, 0
        if not self.text_hits(text):  # the whole file's tokens at once: most files hold nobody erased
            return data, 0
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if not self.text_hits(line)]
        removed = len(lines) - len(kept)
        if not removed:
            return data, 0
        out = "".join(kept).encode("utf-8")
        return (gzip.compress(out, mtime=0) if packed else out), removed


def tokens(text: str) -> set[str]:
    """Every JSON string (unescaped) and every bare word of `text` but numbers."""
    found = {word for word in _BARE.findall(text) if not _NUMBER.fullmatch(word)}
    for quoted in _QUOTED.findall(text):
        if "\\" not in quoted:
            found.add(quoted)
            continue
        try:
            found.add(json.loads(f'"{quoted}"'))
        except ValueError:
            found.add(quoted)
    return found


def account(entry: dict, withheld: int) -> dict:
    """A source's line of the run summary, with what the upload withheld counted in."""
    if not withheld:
        return entry
    return {**entry, "records": entry["records"] + withheld, "suppressed": entry["suppressed"] + withheld}


def handed_back(summary: dict, withheld: dict[str, int]) -> dict:
    """A run summary from elsewhere (the Docker stack's container) with what the host did for
    privacy: the records its upload withheld counted in, the devices the run learnt registered."""
    for name, count in withheld.items():
        if name in summary.get("landing", {}):
            summary["landing"][name] = account(summary["landing"][name], count)
    if "erasures" in summary:
        register.learn(summary["erasures"].get("learnt", {}))
        summary["erasures"]["suppressed"] = sum(e.get("suppressed", 0) for e in summary["landing"].values())
    return summary
