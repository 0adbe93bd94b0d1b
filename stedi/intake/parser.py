"""Landing files to rows, with every record accounted for: accepted, or quarantined with a reason.

A landing prefix holds whatever was dropped there. A plain JSON reader either fails on the first
bad line (and lands nothing) or silently turns bad values into NULLs. Here every record of every
file ends up in exactly one of two tables, so for each source records in files = accepted +
quarantined, and each quarantined record says why, in words a person understands. A record is one
non-blank line of a JSON-lines file; line numbers count every physical line, as an editor does.
Reasons leave out the file and line, which the quarantine table holds in columns of their own.

Case: treatment (example reason)
- malformed JSON line: quarantined (not valid JSON (Expecting ',' delimiter at column 14))
- last line, no final newline, not valid JSON: quarantined; the reason adds that the file looks truncated
- valid JSON but not an object (array, number, string, true/false, null): quarantined (valid JSON but an array, ...)
- two JSON values on one line: quarantined (not valid JSON (Extra data at column 60))
- wrong type: quarantined ("x" is the string "abc", expected a number; "user" is the number 5, expected a string)
- a boolean where a number is declared: quarantined ("x" is the boolean true, expected a number)
- a fraction for a long or int: quarantined ("timestamp" is 1.5, expected a whole number); 1.0 or 1e3: accepted, 1, 1000
- an integer beyond the column's 32-bit (int) or 64-bit (long) range: quarantined
- NaN, Infinity, Inf in a declared double: quarantined ("x" is NaN, expected a finite number); unknown field: ignored
- a declared field twice in one object: quarantined ("user" appears 2 times in the record)
- missing or null required field: quarantined (no "email", which every customer record must have)
- missing or null optional field: accepted as NULL
- extra unknown fields: accepted, ignored
- epoch column (`epoch_ms`: timestamp, *Time, *Date) outside [2000-01-01, now + 1 day]: quarantined, shown as a date
- a value outside its column's declared `min`/`max` (an axis beyond ±16 g, a negative distance): quarantined
  ("x" is 17.5, outside the declared range -16 .. 16); the bounds are stedi/intake/rules.py's, as the gates'
- 0 in a `zero_is_unset` column (the share*AsOfDate consents: never given): accepted as 0; null or absent: NULL
- a date as a string, even of digits: quarantined, naming the field ("shareWithResearchAsOfDate" is the string ...)
- emails (any string) differing only in case or surrounding spaces: accepted as written; the jobs normalize
- duplicate records (equal declared values, same or another file): accepted, counted in `duplicates`
- empty file (0 bytes or only whitespace), whatever its name: 0 records, a note
- blank lines: not records, skipped, a note
- UTF-8 byte-order mark at the start of the file (or of a line: concatenated files): removed, a note
- invalid UTF-8 in a line: that line quarantined (not valid UTF-8 (byte 0xe9 at column 14)), raw with U+FFFD
- Windows line endings (CRLF): accepted, a note; a lone CR is not a line end
- gzip file (name ends in .gz, or gzip magic bytes): decompressed and read, a note
- corrupt or cut gzip: one whole-file entry, line NULL, one record (not a readable gzip file (...))
- not a JSON file: one whole-file entry, line NULL, raw its first 200 characters, one record (a CSV file, not JSON ...)
- which files are JSON: .json, .jsonl, .ndjson (+ .gz); no extension: when the first non-blank byte is `{`
- a line over MAX_LINE_BYTES (1 MiB): quarantined unparsed, raw cut to 1,000 characters (line is 1,048,604 bytes ...)
- any quarantined line's raw text: cut at 10,000 characters, with a marker giving the full length

Speed: files are cut into pieces of about CHUNK_BYTES at line ends and parsed in worker threads by
pyarrow's JSON reader with the declared schema, then checked with vectorized compute (required
NULLs, declared bounds and the epoch window, non-finite doubles). pyarrow only ever sees text where
every line starts with `{` (it bends or crashes on some other lines, see _LINE_NOT_OBJECT), and its row count must equal
the line count. What it cannot vouch for is judged line by line in Python, the reference: a piece
pyarrow refuses is cut in eight, again and again, until the parts are small; their lines that
do not look like objects, the lines of the small parts it still refuses, and the flagged rows.

Memory: at most _IN_FLIGHT_BYTES of raw files wait for the workers, and the accepted rows are held
as Arrow up to the intake's budget; past it, given a spool directory, they go to Parquet files
there (spool.py), so a landing zone of any size is read in bounded memory.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, reduce
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import json as pajson

from stedi.intake.rules import RecordRules
from stedi.intake.spool import Spool, Spooled, bucket_ids
from stedi.intake.spool import budget_bytes as spool_budget_bytes
from stedi.tables import Column, Table, lakehouse

MAX_LINE_BYTES = 1 << 20  # longer lines are quarantined unparsed: no real record is that long
MAX_RAW_CHARS = 10_000  # a quarantined line's raw text is cut here, so one bad file cannot bloat the table
LONG_LINE_RAW_CHARS = 1_000
FILE_RAW_CHARS = 200
CHUNK_BYTES = 4 << 20  # per task: big enough to amortize a pyarrow call, small enough to parallelize
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")

# Declared once, in catalog/tables.toml's [quarantine] (every source's quarantine has these columns).
QUARANTINE_SCHEMA = next(iter(lakehouse().quarantines.values())).arrow_schema()

_BOM = b"\xef\xbb\xbf"
_INT_RANGES = {"int": (-(2**31), 2**31 - 1, "32-bit"), "long": (-(2**63), 2**63 - 1, "64-bit")}
_PARALLEL_DISTINCT_ROWS = 50_000  # below this, one hash aggregation beats splitting the rows
_SPLIT = 8  # a failing pyarrow parse is retried on this many parts
_LINE_BY_LINE_BYTES = 64 << 10  # a range this small that pyarrow cannot take whole is sorted line by line
_JUDGE_DIRECTLY = 48  # lines: fewer are judged in Python (about 4 us each) rather than parsed (95 us a call)
_WORKERS = max(1, min(8, os.cpu_count() or 1))
_IN_FLIGHT_BYTES = 256 << 20  # raw bytes waiting in the worker queue before the reader waits
# A piece is "plain" when every line starts with `{`: then pyarrow's rows are the lines one to
# one, and no block can start with a top-level `null`, which crashes pyarrow 26 (segfault).
_LINE_NOT_OBJECT = re.compile(rb"\n[^{]")
_LONE_CR = re.compile(rb"\r(?!\n)")  # pyarrow splits lines at a lone CR as well
_ONLY_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_FIRST_NON_WHITESPACE = re.compile(rb"[^ \t\r\n]")


@dataclass(frozen=True)
class Intake:
    """One source's landing files as rows; `records` counts what the files hold, so a record that
    is neither accepted, quarantined nor suppressed cannot go unnoticed (construction fails).
    Suppressed records are erased people's (stedi/privacy/suppression.py), dropped at the door.
    `accepted` is Arrow, or, for a source past the intake's memory budget, Parquet files (spool.py)."""

    accepted: pa.Table | Spooled
    quarantined: pa.Table
    files: int
    records: int
    duplicates: int
    notes: tuple[str, ...] = ()
    suppressed: int = 0

    @property
    def spooled(self) -> bool:
        return isinstance(self.accepted, Spooled)

    def __post_init__(self):
        if self.records != self.accepted.num_rows + self.quarantined.num_rows + self.suppressed:
            raise AssertionError(
                f"{self.records} records but {self.accepted.num_rows} accepted + "
                f"{self.quarantined.num_rows} quarantined + {self.suppressed} suppressed: a record went missing"
            )


# The reason given for an instant outside the epoch window, whose end moves with the clock.
OUTSIDE_WINDOW = "outside the plausible range"


def read_source(
    table: Table,
    files: Iterable[tuple[str, bytes]],
    now_ms: int | None = None,
    *,
    withhold: Callable[[pa.Table], pa.Array] | None = None,
    spool: Path | None = None,
) -> Intake:
    """Every record of one source's landing files, accepted or quarantined (see the module docstring).

    `files` are (path as shown to users, raw bytes) pairs; `now_ms` fixes "now" for the epoch
    window, so a test or a re-run judges the same bytes the same way. `withhold` marks accepted
    rows that must not enter at all (an erased person's: stedi/privacy/suppression.py); they are
    counted as suppressed. With `spool`, a directory, accepted records beyond the intake's memory
    budget are written there as Parquet (spool.py) and `accepted` is that spool.
    """
    return _read(table, files, now_ms, fast=True, withhold=withhold, spool=spool)


def quarantine_share(intake: Intake) -> float:
    """The fraction of records set aside, the number a quality gate puts a ceiling on."""
    return intake.quarantined.num_rows / intake.records if intake.records else 0.0


# ---------------------------------------------------------------------------- the reader


def _read(
    table: Table,
    files: Iterable[tuple[str, bytes]],
    now_ms: int | None,
    *,
    fast: bool,
    withhold: Callable[[pa.Table], pa.Array] | None = None,
    spool: Path | None = None,
) -> Intake:
    """`fast=False` judges every line in Python: the reference the fast path is tested against."""
    rules = _Rules(table, int(time.time() * 1000) if now_ms is None else now_ms, fast)
    accepted = _Accepted(table, _split_key(rules), withhold, spool)
    quarantined: list[tuple[str, int | None, str, str]] = []
    notes: list[str] = []
    count = 0
    queue: list[_FileJob] = []
    in_flight = 0
    for path, raw in files:
        count += 1
        job = _open_file(rules, _pool(), path, raw)
        queue.append(job)
        in_flight += job.size
        while in_flight > _IN_FLIGHT_BYTES and queue:
            done = queue.pop(0)
            in_flight -= done.size
            done.collect(accepted, quarantined, notes)
    for job in queue:
        job.collect(accepted, quarantined, notes)
    accepted_rows, duplicates = accepted.finish()
    quarantined_table = pa.table(
        [list(column) for column in zip(*quarantined, strict=True)] if quarantined else [[], [], [], []],
        schema=QUARANTINE_SCHEMA,
    )
    return Intake(
        accepted=accepted_rows,
        quarantined=quarantined_table,
        files=count,
        records=accepted_rows.num_rows + quarantined_table.num_rows + accepted.withheld,
        duplicates=duplicates,
        notes=tuple(notes),
        suppressed=accepted.withheld,
    )


class _Accepted:
    """A source's accepted rows as they are read: held as Arrow within the intake's memory budget,
    and, when a spool directory is given, written there past it (spool.py)."""

    def __init__(self, table: Table, key: str | None, withhold, spool: Path | None):
        self.schema = table.arrow_schema(all_nullable=True)
        self.key = key
        self.withhold = withhold
        self.spool_dir = spool
        self.budget = spool_budget_bytes()
        self.pieces: list[pa.Table] = []
        self.held = 0
        self.spool: Spool | None = None
        self.withheld = 0

    def append(self, piece: pa.Table) -> None:
        if self.withhold is not None and piece.num_rows:
            drop = self.withhold(piece)
            gone = pc.sum(drop).as_py() or 0
            if gone:
                piece = piece.filter(pc.invert(drop))
                self.withheld += gone
        if not piece.num_rows:
            return
        if self.spool is not None:
            self.spool.add(piece)
            return
        self.pieces.append(piece)
        self.held += piece.nbytes
        if self.spool_dir is not None and self.held > self.budget:
            self.spool = Spool(self.spool_dir, self.schema, self.key)
            for held in self.pieces:
                self.spool.add(held)
            self.pieces, self.held = [], 0

    def finish(self) -> tuple[pa.Table | Spooled, int]:
        """The accepted rows, and how many are duplicates of an earlier one."""
        if self.spool is not None:
            spooled = self.spool.close()
            duplicates = _spooled_duplicates(spooled)
            pa.default_memory_pool().release_unused()  # the pool keeps freed pages: the JVM wants them next
            return spooled, duplicates
        table = pa.concat_tables(self.pieces) if self.pieces else self.schema.empty_table()
        return table, _duplicates(table, self.key)


@cache
def _pool() -> ThreadPoolExecutor:
    """One pool for the process: starting threads on every call costs more than a small file's parse."""
    return ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="stedi-intake")


def _split_key(rules: _Rules) -> str | None:
    """A required integer column: equal rows have equal values in it, so it splits rows for counting."""
    return next((c.name for c in rules.columns if c.name in rules.required and c.type in ("long", "int")), None)


def _duplicates(accepted: pa.Table, key: str | None) -> int:
    """Rows equal in every declared column to an earlier row: kept, since landing mirrors the files.

    Counting distinct rows is a hash aggregation as costly as a third of the parse; equal rows have
    equal required integers, so the rows are split on a hash of that integer and counted in parallel.
    """
    if accepted.num_rows < 2:
        return 0
    parts = 1 << max(0, (_WORKERS - 1).bit_length())
    if key is None or parts == 1 or accepted.num_rows < _PARALLEL_DISTINCT_ROWS:
        return accepted.num_rows - _distinct(accepted)
    ids = bucket_ids(accepted.column(key), parts)
    counts = _pool().map(lambda part: _distinct(accepted.filter(pc.equal(ids, part))), range(parts))
    return accepted.num_rows - sum(counts)


def _spooled_duplicates(spooled: Spooled) -> int:
    """The same count over spooled rows, one file at a time (two at once: memory, not cores, is short
    when rows are spooled). Equal rows share a file, since the files are split on a hash of the key."""
    with ThreadPoolExecutor(max_workers=min(2, _WORKERS), thread_name_prefix="stedi-spool") as pool:
        distinct = pool.map(lambda f: _distinct(pq.read_table(f, schema=spooled.schema)), spooled.files)
        return spooled.num_rows - sum(distinct)


def _distinct(table: pa.Table) -> int:
    # -0.0 + 0.0 is 0.0: the two zeros are one value for a record, two keys for a hash.
    columns = [pc.add(c, 0.0) if pa.types.is_floating(c.type) else c for c in table.columns]
    table = pa.table(columns, names=table.column_names)
    return table.group_by(table.column_names, use_threads=False).aggregate([]).num_rows


@dataclass
class _FileJob:
    path: str
    size: int = 0
    notes: list[str] = field(default_factory=list)
    whole_file: tuple[str, str] | None = None  # (raw, reason) of a file set aside as one record
    pieces: list[Future] = field(default_factory=list)

    def collect(self, accepted, quarantined, notes) -> None:
        notes.extend(self.notes)
        if self.whole_file:
            quarantined.append((self.path, None, *self.whole_file))
        blank = 0
        bom_lines: list[int] = []
        for future in self.pieces:
            piece: _Piece = future.result()
            if piece.accepted.num_rows:
                accepted.append(piece.accepted)
            quarantined.extend((self.path, line, raw, reason) for line, raw, reason in piece.quarantined)
            blank += piece.blank
            bom_lines.extend(piece.bom_lines)
        if blank:
            notes.append(f"{self.path}: {blank:,} blank line{'s' if blank > 1 else ''} skipped (not records)")
        if bom_lines:
            shown = ", ".join(str(n) for n in bom_lines[:10]) + (" ..." if len(bom_lines) > 10 else "")
            notes.append(
                f"{self.path}: UTF-8 byte-order mark removed at the start of line {shown} (concatenated files?)"
            )


def _open_file(rules: _Rules, pool: ThreadPoolExecutor, path: str, raw: bytes) -> _FileJob:
    """Decide what a file is (empty, gzip, JSON lines, something else) and queue its pieces."""
    path = path.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # os.fsdecode may leave surrogates
    job = _FileJob(path)
    name = PurePosixPath(path.replace("\\", "/")).name
    data = bytes(raw)
    if name.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        if data:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as error:
                job.whole_file = (_preview(raw), f"not a readable gzip file ({error}); the whole file is set aside")
                return job
            hint = "" if name.lower().endswith(".gz") else " (the name does not say so)"
            job.notes.append(f"{path}: gzip-compressed{hint}, {len(raw):,} bytes decompressed to {len(data):,}")
        if name.lower().endswith(".gz"):
            name = name[:-3]
    start = 3 if data.startswith(_BOM) else 0
    if _ONLY_WHITESPACE.fullmatch(data, start):
        what = "0 bytes" if not data else f"only whitespace, {len(data):,} bytes"
        job.notes.append(f"{path}: empty file ({what}), no records")
        return job
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in JSON_SUFFIXES:
        first = _FIRST_NON_WHITESPACE.search(data, start)
        if suffix or first is None or data[first.start() : first.start() + 1] != b"{":
            job.whole_file = (
                _preview(data),
                f"{_file_kind(name, suffix, data)}, not JSON lines; the whole file is set aside as one record",
            )
            return job
    if start:
        job.notes.append(f"{path}: UTF-8 byte-order mark removed")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        job.notes.append(f"{path}: starts with a UTF-16 byte-order mark; landing files must be UTF-8")
    if b"\r" in data and b"\r\n" in data:
        job.notes.append(f"{path}: Windows (CRLF) line endings")
    ascii_only = data.isascii()
    job.size = len(data)
    line = 1
    while start < len(data):
        end = data.find(b"\n", start + CHUNK_BYTES)
        end = len(data) if end < 0 else end + 1
        # The next piece's first line number needs this one's count; the last piece counts its own.
        newlines = data.count(b"\n", start, end) if end < len(data) else None
        job.pieces.append(pool.submit(_read_piece, rules, data, start, end, line, newlines, ascii_only))
        line += newlines or 0
        start = end
    return job


def _file_kind(name: str, suffix: str, data: bytes) -> str:
    if name == ".DS_Store":
        return "a macOS Finder metadata file (.DS_Store)"
    if name.lower() == "thumbs.db":
        return "a Windows thumbnail cache (Thumbs.db)"
    magic = {
        b"PAR1": "a Parquet file",
        b"PK\x03\x04": "a ZIP archive",
        b"%PDF": "a PDF document",
        b"\x89PNG": "a PNG image",
        b"Obj\x01": "an Avro file",
        b"ORC": "an ORC file",
    }
    for prefix, kind in magic.items():
        if data.startswith(prefix):
            return kind
    named = {
        ".csv": "a CSV file",
        ".tsv": "a TSV file",
        ".txt": "a text file",
        ".md": "a Markdown file",
        ".log": "a log file",
        ".xml": "an XML file",
        ".yaml": "a YAML file",
        ".yml": "a YAML file",
        ".parquet": "a Parquet file",
        ".avro": "an Avro file",
        ".orc": "an ORC file",
        ".zip": "a ZIP archive",
    }
    if suffix in named:
        return named[suffix]
    head = data[:4096]
    try:
        head.decode("utf-8")
        binary = b"\x00" in head
    except UnicodeDecodeError as error:
        binary = error.start < len(head) - 3  # a character cut at the 4 KiB edge is not a sign of binary
    kind = "a binary file" if binary else "a text file"
    return f"{kind} with extension {suffix}" if suffix else f"{kind} with no extension, not starting with '{{'"


def _preview(data: bytes) -> str:
    return data[: FILE_RAW_CHARS * 4].decode("utf-8", errors="replace")[:FILE_RAW_CHARS]


# ---------------------------------------------------------------------------- one piece of a file


@dataclass
class _Piece:
    accepted: pa.Table
    quarantined: list[tuple[int, str, str]]
    blank: int = 0
    bom_lines: list[int] = field(default_factory=list)


@dataclass
class _Judged:
    """What the line-by-line judge made of lines: accepted rows and quarantine entries, by line number."""

    rows: list[dict] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)
    bom_lines: list[int] = field(default_factory=list)

    def judge(self, rules: _Rules, number: int, line: bytes, unterminated: bool) -> None:
        if line.startswith(_BOM):
            line = line[3:]
            self.bom_lines.append(number)
        row, reason = rules.judge(line, unterminated)
        if reason is None:
            self.rows.append(row)
            self.row_lines.append(number)
        else:
            self.quarantined.append((number, _raw_text(line), reason))


def _read_piece(
    rules: _Rules, data: bytes, start: int, end: int, first_line: int, newlines: int | None, ascii_only: bool
) -> _Piece:
    """The rows of data[start:end], a whole number of lines of one file starting at line `first_line`."""
    if newlines is None:
        newlines = data.count(b"\n", start, end)
    unterminated = data[end - 1 : end] != b"\n"
    count = newlines + unterminated
    truncated = first_line + count - 1 if unterminated else None  # the one line that may look truncated
    judged = _Judged()
    segments: list[_Segment] = []
    blank = _read_range(rules, data, start, end, first_line, count, ascii_only, segments, judged, truncated)
    piece = _finish(rules, segments, judged, truncated)
    piece.blank = blank
    return piece


@dataclass(frozen=True)
class _Segment:
    """Rows pyarrow parsed: row i is line numbers[i], whose bytes are lines()[i]."""

    table: pa.Table
    numbers: range | list[int]
    lines: Callable[[], list[bytes]]


def _read_range(rules, data, start, end, first_line, count, ascii_only, segments, judged, truncated) -> int:
    """Read data[start:end] (`count` lines from `first_line`) into segments and judged lines; returns
    the number of blank lines. A range pyarrow cannot take whole is cut in _SPLIT ranges at line
    ends, so one bad line costs a few small parses, not a line-by-line reading of the whole piece."""
    if rules.fast and _plain(data, start, end, ascii_only):
        parsed = _try_parse(rules, pa.py_buffer(data)[start:end], count)
        if parsed is not None:
            segments.append(_Segment(parsed, range(first_line, first_line + count), lambda: _lines(data, start, end)))
            return 0
    if rules.fast and end - start > _LINE_BY_LINE_BYTES and count > 1:
        blank = 0
        step = -(-(end - start) // _SPLIT)
        whole = start
        while start < end:
            cut = data.find(b"\n", min(start + step, end) - 1, end)
            cut = end if cut < 0 else cut + 1
            if start == whole and cut == end:  # a long last line: cut after the first line instead
                cut = data.find(b"\n", start, end) + 1
            lines = data.count(b"\n", start, cut) + (data[cut - 1 : cut] != b"\n")
            blank += _read_range(rules, data, start, cut, first_line, lines, ascii_only, segments, judged, truncated)
            start, first_line = cut, first_line + lines
        return blank
    # Small enough to sort line by line: pyarrow gets the lines that look like objects.
    candidates: list[bytes] = []
    numbers: list[int] = []
    blank = 0
    for number, line in enumerate(_lines(data, start, end), start=first_line):
        if rules.fast and line[:1] == b"{" and _plain_line(line, ascii_only):
            candidates.append(line)
            numbers.append(number)
        elif not line.strip(b" \t\r"):
            blank += 1
        else:
            judged.judge(rules, number, line, number == truncated)
    _parse_lines(rules, candidates, numbers, segments, judged, truncated)
    return blank


def _lines(data: bytes, start: int, end: int) -> list[bytes]:
    lines = data[start:end].split(b"\n")
    if data[end - 1 : end] == b"\n":
        lines.pop()
    return lines


def _plain(data: bytes, start: int, end: int, ascii_only: bool) -> bool:
    """Whether pyarrow may read data[start:end] whole: objects one per line, nothing it would bend."""
    if data[start : start + 1] != b"{" or _LINE_NOT_OBJECT.search(data, start, end):
        return False
    if data.find(b"\r", start, end) >= 0 and _LONE_CR.search(data, start, end):
        return False
    if not ascii_only:
        try:
            str(memoryview(data)[start:end], "utf-8")
        except UnicodeDecodeError:
            return False
    position = start
    while end - position > MAX_LINE_BYTES:
        newline = data.rfind(b"\n", position, position + MAX_LINE_BYTES + 1)
        if newline < 0:
            return False
        position = newline + 1
    return True


def _plain_line(line: bytes, ascii_only: bool) -> bool:
    if len(line) > MAX_LINE_BYTES:
        return False
    carriage = line.find(b"\r")
    if 0 <= carriage < len(line) - 1:
        return False
    if not ascii_only and not line.isascii():
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _try_parse(rules: _Rules, buffer, expected_rows: int) -> pa.Table | None:
    try:
        parsed = rules.parse(buffer)
    except pa.ArrowException:
        return None
    return parsed if parsed.num_rows == expected_rows else None


def _parse_lines(rules: _Rules, lines: list[bytes], numbers: list[int], segments: list, judged: _Judged, truncated):
    """Parse lines with pyarrow; where a parse fails, split in _SPLIT parts until the bad lines are found.

    A part of _JUDGE_DIRECTLY lines or fewer costs less to judge line by line than one more pyarrow call.
    """
    if len(lines) <= _JUDGE_DIRECTLY:
        for number, line in zip(numbers, lines, strict=True):
            judged.judge(rules, number, line, number == truncated)
        return
    parsed = _try_parse(rules, b"\n".join(lines) + b"\n", len(lines))
    if parsed is not None:
        segments.append(_Segment(parsed, numbers, lambda: lines))
        return
    step = -(-len(lines) // _SPLIT)
    for at in range(0, len(lines), step):
        _parse_lines(rules, lines[at : at + step], numbers[at : at + step], segments, judged, truncated)


def _finish(rules: _Rules, segments: list[_Segment], judged: _Judged, truncated) -> _Piece:
    """Vectorized checks on what pyarrow parsed; flagged rows go to the line judge; accepted rows
    come out in line order."""
    tables: list[pa.Table] = []
    numbers: list = []  # per table: its rows' line numbers, as a range or list until an array is needed
    for segment in segments:
        table, rows = segment.table, segment.numbers
        flagged = rules.flagged(table)
        if flagged:
            lines = segment.lines()
            for i in flagged:
                judged.judge(rules, rows[i], lines[i], rows[i] == truncated)
            keep = pc.invert(pc.is_in(pa.array(range(table.num_rows), pa.int64()), pa.array(flagged, pa.int64())))
            table, rows = table.filter(keep), pa.array(rows, pa.int64()).filter(keep)
        tables.append(table)
        numbers.append(rows)
    if judged.rows:
        order = sorted(range(len(judged.rows)), key=judged.row_lines.__getitem__)
        tables.append(pa.Table.from_pylist([judged.rows[i] for i in order], schema=rules.schema))
        numbers.append([judged.row_lines[i] for i in order])
    if not tables:
        accepted = rules.schema.empty_table()
    elif len(tables) == 1:
        accepted = tables[0]
    else:
        accepted = pa.concat_tables(tables)
        if judged.rows:  # segments come in line order; judged rows fall between them
            line_numbers = pa.chunked_array([pa.array(rows, pa.int64()) for rows in numbers], pa.int64())
            accepted = accepted.take(pc.sort_indices(line_numbers))
    judged.quarantined.sort(key=lambda entry: entry[0])
    return _Piece(accepted=accepted, quarantined=judged.quarantined, bom_lines=sorted(judged.bom_lines))


# ---------------------------------------------------------------------------- the rules of one table


class _Rules:
    """The declared columns of one landing table, as checks pyarrow and the line judge both apply."""

    def __init__(self, table: Table, now_ms: int, fast: bool):
        self.table = table
        self.fast = fast
        self.kind = f"{table.source or table.name} record"
        self.schema = table.arrow_schema(all_nullable=True)
        self.columns = table.columns
        self.names = [c.name for c in table.columns]
        self.quoted = [f'"{c.name}"' for c in table.columns]
        self.required = set(table.required_columns)
        self.epoch = {c.name for c in table.columns if _is_epoch(c)}
        self.zero_unset = {c.name for c in table.columns if c.name in self.epoch and _zero_is_unset(c)}
        self.low, self.high = RecordRules(table, now_ms).epoch_window
        # Declared min/max of a measurement (the epoch window is checked apart, with its own reason).
        self.measured = {name: b for name, b in RecordRules(table, now_ms).bounds.items() if not b.epoch_ms}
        self.integers = [c for c in table.columns if c.type in _INT_RANGES]
        self.window = f"{_date(self.low)[:10]} .. {_date(self.high)[:10]}"
        self.specs = [(c.name, c.type, c) for c in table.columns]
        self.name_set = frozenset(self.names)
        # Integers inside these bounds need no further check: the type's range, narrowed to the
        # epoch window or the declared bounds (0 of a zero_is_unset column takes the long way).
        self.quiet_low = {c.name: self._quiet(c, 0) for c in self.integers}
        self.quiet_high = {c.name: self._quiet(c, 1) for c in self.integers}
        self.options = pajson.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="ignore")

    def _quiet(self, column: Column, side: int):
        if column.name in self.epoch:
            return (self.low, self.high)[side]
        bound = self.measured.get(column.name)
        declared = (bound.low, bound.high)[side] if bound else None
        return _INT_RANGES[column.type][side] if declared is None else declared

    def parse(self, buffer) -> pa.Table:
        # One block per call: a block boundary inside the buffer is where pyarrow 26 could meet a
        # top-level `null` first and crash; the caller guarantees the buffer starts with `{`.
        read = pajson.ReadOptions(use_threads=False, block_size=max(len(buffer) + 1, 1 << 10))
        return pajson.read_json(pa.BufferReader(buffer), read_options=read, parse_options=self.options)

    def flagged(self, parsed: pa.Table) -> list[int]:
        """Rows pyarrow parsed that still break a rule: the line judge says why."""
        masks = []
        for column in self.columns:
            values = parsed.column(column.name)
            if column.name in self.required and values.null_count:
                masks.append(pc.is_null(values))
            if column.name in self.epoch:
                outside = pc.or_(pc.less(values, self.low), pc.greater(values, self.high))
                if column.name in self.zero_unset:
                    outside = pc.and_(outside, pc.not_equal(values, 0))
                masks.append(pc.fill_null(outside, False))
            bound = self.measured.get(column.name)
            if bound is not None:
                outside = [pc.less(values, bound.low)] if bound.low is not None else []
                outside += [pc.greater(values, bound.high)] if bound.high is not None else []
                masks.append(pc.fill_null(reduce(pc.or_, outside), False))
            if column.type == "double":
                masks.append(pc.fill_null(pc.invert(pc.is_finite(values)), False))
        if not masks:
            return []
        mask = reduce(pc.or_, masks)
        if not pc.any(mask).as_py():
            return []
        return pc.indices_nonzero(mask).to_pylist()

    # -------------------------------------------------------------- the line judge (the reference)

    def judge(self, line: bytes, unterminated: bool) -> tuple[dict | None, str | None]:
        if len(line) > MAX_LINE_BYTES:
            return None, f"line is {len(line):,} bytes long, over the {MAX_LINE_BYTES:,}-byte limit; not parsed"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, f"not valid UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})"
        try:
            record, text = _loads(text)
        except json.JSONDecodeError as error:
            reason = f"not valid JSON ({error.msg} at column {error.colno})"
            if unterminated:
                reason += "; it is the last line and the file does not end with a newline: the file looks truncated"
            return None, reason
        except RecursionError:
            return None, "not valid JSON (nested too deeply to read)"
        except ValueError as error:  # an integer of more than 4,300 digits
            return None, f"not valid JSON ({error})"
        if not isinstance(record, dict):
            return None, f"valid JSON but {_describe(record)}, not an object"
        problems = []
        escaped = "\\u" in text
        # A declared name quoted more often than the record has declared keys may be a repeated key.
        if escaped or sum(map(text.count, self.quoted)) > len(self.name_set.intersection(record)):
            problems.extend(self._repeated_fields(text))
        row = {}
        for name, kind, column in self.specs:
            value = record.get(name)
            # The common, valid cases inline; everything else (and every reason) in _value.
            if kind == "string":
                if type(value) is str and not escaped:
                    row[name] = value
                    continue
            elif kind == "double":
                if type(value) is float and value - value == 0.0 and name not in self.measured:
                    row[name] = value
                    continue
            elif type(value) is int and self.quiet_low[name] <= value <= self.quiet_high[name]:
                row[name] = value
                continue
            value, problem = self._value(column, record.get(name, _MISSING))
            row[name] = value
            if problem:
                problems.append(problem)
        if problems:
            return None, "; ".join(problems)
        return row, None

    def _repeated_fields(self, text: str) -> list[str]:
        pairs = json.JSONDecoder(object_pairs_hook=_Pairs).decode(text)
        seen: dict[str, int] = {}
        for key, _ in pairs:
            if key in self.names:
                seen[key] = seen.get(key, 0) + 1
        return [f'"{key}" appears {n} times in the record' for key, n in seen.items() if n > 1]

    def _value(self, column: Column, value) -> tuple[object, str | None]:
        name = column.name
        if value is _MISSING or value is None:
            if name in self.required:
                if value is _MISSING:
                    return None, f'no "{name}", which every {self.kind} must have'
                return None, f'"{name}" is null, but every {self.kind} must have one'
            return None, None
        if column.type == "string":
            if not isinstance(value, str):
                return None, f'"{name}" is {_describe(value)}, expected a string'
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return None, f'"{name}" holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), not text'
            return value, None
        expected = "a number (epoch milliseconds)" if name in self.epoch else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            described = _describe(value)
            if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*", value):
                return None, f'"{name}" is {described}, expected {expected} written without quotes'
            return None, f'"{name}" is {described}, expected {expected}'
        if isinstance(value, float) and not math.isfinite(value):
            return None, f'"{name}" is {_describe(value)}, expected a finite number'
        if column.type == "double":
            try:
                return self._measured(column, float(value))
            except OverflowError:
                return None, f'"{name}" is {_describe(value)}, too large for a double'
        if isinstance(value, float):
            if not value.is_integer():
                whole = "a whole number (epoch milliseconds)" if name in self.epoch else "a whole number"
                return None, f'"{name}" is {value!r}, expected {whole}'
            value = int(value)
        low, high, bits = _INT_RANGES[column.type]
        if not low <= value <= high:
            return None, f'"{name}" is {_digits(value)}, outside the range of a {bits} integer'
        if name in self.epoch and not (self.low <= value <= self.high or (value == 0 and name in self.zero_unset)):
            hint = ""
            if self.low <= value * 1000 <= self.high:
                hint = "; it looks like seconds, not milliseconds"
            return None, f'"{name}" is {value} ({_date(value)}), {OUTSIDE_WINDOW} {self.window}{hint}'
        return self._measured(column, value)

    def _measured(self, column: Column, value: float | int) -> tuple[object, str | None]:
        bound = self.measured.get(column.name)
        if bound is not None and bound.breaks(value):
            return None, f'"{column.name}" is {value!r}, outside {bound.describe()}'
        return value, None


_MISSING = object()


class _Pairs(list):
    """An object as its (key, value) pairs, so a repeated key can be seen."""


def _is_epoch(column: Column) -> bool:
    declared = getattr(column, "epoch_ms", None)
    if declared is not None:
        return bool(declared) and column.type in ("long", "int")
    return column.type == "long" and column.name.endswith(("Date", "Time", "timestamp"))


def _zero_is_unset(column: Column) -> bool:
    declared = getattr(column, "zero_is_unset", None)
    if declared is not None:
        return bool(declared)
    return re.fullmatch(r"share\w*AsOfDate", column.name) is not None


def _loads(text: str) -> tuple[object, str]:
    """json.loads, also taking the non-finite spellings pyarrow takes (-NaN, Inf, -Inf), so the two
    readers agree on which lines are JSON. Returns the value and the text as read; a line that is
    not JSON raises the error of its original text, which is what the reason shows."""
    try:
        return json.loads(text), text
    except json.JSONDecodeError as first:
        fixed, error = text, first
        while (replacement := _constant_at(fixed, error.pos)) is not None:
            token, spelled = replacement
            fixed = fixed[: error.pos] + spelled + fixed[error.pos + len(token) :]
            try:
                return json.loads(fixed), fixed
            except json.JSONDecodeError as again:
                error = again
        raise first from None


def _constant_at(text: str, position: int) -> tuple[str, str] | None:
    if text.startswith("-NaN", position):
        return "-NaN", "NaN"
    if text.startswith("-Inf", position) and not text.startswith("-Infinity", position):
        return "-Inf", "-Infinity"
    if text.startswith("Inf", position) and not text.startswith("Infinity", position):
        return "Inf", "Infinity"
    return None


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        if not shown.isascii():
            try:
                shown.encode("utf-8")
            except UnicodeEncodeError:  # an unpaired surrogate from a \ud800 escape
                shown = json.dumps(value)
        return f"the string {shown if len(shown) <= 60 else shown[:57] + '...'}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return f"the number {value!r}"
    if isinstance(value, int):
        return f"the number {_digits(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _digits(value: int) -> str:
    digits = str(value)
    return digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits)} digits)"


def _date(ms: int) -> str:
    try:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime("%Y-%m-%d %H:%M:%S UTC")
    except OverflowError:
        return "after the year 9999" if ms > 0 else "before the year 1"


def _raw_text(line: bytes) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > MAX_LINE_BYTES:
        text = line[: LONG_LINE_RAW_CHARS * 4].decode("utf-8", errors="replace")[:LONG_LINE_RAW_CHARS]
        return f"{text}... [cut: the line is {len(line):,} bytes]"
    text = line.decode("utf-8", errors="replace")
    if len(text) > MAX_RAW_CHARS:
        return f"{text[:MAX_RAW_CHARS]}... [cut: the line is {len(text):,} characters]"
    return text
