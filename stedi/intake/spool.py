"""Accepted records on local disk, for landing data bigger than the intake may hold in memory.

The intake (parser.py) holds a source's accepted records as Arrow until the landing table is
staged. At 1000x the starter data that is 83 million accelerometer readings, more memory than the
machine has. Past a budget (`STEDI_INTAKE_MEMORY_MIB`, 256 by default) the records go to Parquet
files as they are read, and Spark reads those files: the intake then holds at most the budget,
the parse queue and one row group per file, whatever the size of the landing zone.

The files are split by a hash of one required integer column (the reading's timestamp), so that
equal records share a file and duplicates are counted one file at a time, in bounded memory.
They hold personal data as it landed: they live under the lakehouse's state directory for one run
and are deleted when it ends, when the next run starts after a killed one, and by `stedi forget`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BUDGET_ENV = "STEDI_INTAKE_MEMORY_MIB"
BUCKETS = 64  # files per source: 1.3 million accelerometer readings each at 1000x, counted in 0.4 GB
ROW_GROUP_ROWS = 1 << 16  # rows buffered per file before they are written as one Parquet row group
_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)  # Fibonacci hashing: spreads timestamps that share low bits


def budget_bytes() -> int:
    """The Arrow bytes of accepted records one source may hold in memory before they are spooled."""
    return int(float(os.environ.get(BUDGET_ENV, "256")) * (1 << 20))


def bucket_ids(key: pa.ChunkedArray | pa.Array, buckets: int) -> pa.Array:
    """Which of `buckets` (a power of two, 2 or more) each row falls in, by its integer key: equal
    keys, equal buckets, and neighbouring timestamps spread over all of them (their low bits alone
    would not: readings 10 ms apart are all even). The intake's duplicate count splits rows so too."""
    mixed = pc.multiply(pc.fill_null(key.cast(pa.int64()), 0), pa.scalar(_GOLDEN, pa.int64()))
    ids = pc.bit_wise_and(pc.shift_right(mixed, 64 - (buckets - 1).bit_length()), buckets - 1)
    return ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids


@dataclass(frozen=True)
class Spooled:
    """A source's accepted records as Parquet files on local disk (in place of an Arrow table)."""

    files: tuple[Path, ...]
    num_rows: int
    schema: pa.Schema

    def column(self, name: str) -> pa.ChunkedArray:
        """One column of every record (the customers' emails: a million strings at 1000x)."""
        return self.to_arrow([name]).column(name)

    def to_arrow(self, columns: list[str] | None = None) -> pa.Table:
        """The records in memory: only where they are known to fit (a spool has a file at least: it
        starts once the held rows pass the budget)."""
        return pa.concat_tables(pq.read_table(f, columns=columns, schema=self.schema) for f in self.files)

    def uris(self) -> list[str]:
        return [f.resolve().as_uri() for f in self.files]


class Spool:
    """Writes one source's accepted records, piece by piece, into BUCKETS Parquet files."""

    def __init__(self, directory: Path, schema: pa.Schema, key: str | None):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        self.directory = directory
        self.schema = schema
        self.key = key  # None: no integer column to split on, one file
        self.buckets = BUCKETS if key else 1
        self._buffered: list[list[pa.Table]] = [[] for _ in range(self.buckets)]
        self._buffered_rows = [0] * self.buckets
        self._writers: list[pq.ParquetWriter | None] = [None] * self.buckets
        self.rows = 0

    def add(self, piece: pa.Table) -> None:
        piece = piece.cast(self.schema)
        self.rows += piece.num_rows
        if self.buckets == 1:
            self._buffer(0, piece)
            return
        ids = bucket_ids(piece.column(self.key), self.buckets)
        order = pc.sort_indices(ids)
        ordered = piece.take(order)
        counts = pc.value_counts(ids)
        sizes = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
        offset = 0
        for bucket in range(self.buckets):
            size = sizes.get(bucket, 0)
            if size:
                self._buffer(bucket, ordered.slice(offset, size))
                offset += size

    def _buffer(self, bucket: int, rows: pa.Table) -> None:
        self._buffered[bucket].append(rows)
        self._buffered_rows[bucket] += rows.num_rows
        if self._buffered_rows[bucket] >= ROW_GROUP_ROWS:
            self._flush(bucket)

    def _flush(self, bucket: int) -> None:
        if not self._buffered[bucket]:
            return
        if self._writers[bucket] is None:
            self._writers[bucket] = pq.ParquetWriter(self.directory / f"part-{bucket:02d}.parquet", self.schema)
        self._writers[bucket].write_table(pa.concat_tables(self._buffered[bucket]))
        self._buffered[bucket], self._buffered_rows[bucket] = [], 0

    def close(self) -> Spooled:
        files = []
        for bucket in range(self.buckets):
            self._flush(bucket)
            writer = self._writers[bucket]
            if writer is not None:
                writer.close()
                files.append(self.directory / f"part-{bucket:02d}.parquet")
        return Spooled(tuple(files), self.rows, self.schema)


class SpoolRoot:
    """Where a run's sources spool (one directory per source); the run empties it when it ends, and
    so does the next run after a killed one, and `stedi forget`."""

    def __init__(self, directory: Path):
        self.directory = directory

    def for_source(self, name: str) -> Path:
        return self.directory / name

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
