"""What every query engine returns for one statement."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    types: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sql: str = ""  # the statement the engine ran (the DuckDB translation, or the Athena SQL)
    source: str = ""  # the Athena statement as written

    def records(self) -> list[dict]:
        """One dict per row, column names as keys (a repeated name gets a _2, _3 suffix)."""
        names = unique_names(self.columns)
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def unique_names(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names
