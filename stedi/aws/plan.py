"""A plan: every resource of the deployment with what a deploy would do to it.

Planning only reads; each change carries the function that applies it, so `deploy --plan`
and `deploy` share one diff and cannot disagree about what is different.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from stedi.runtime.progress import table

ACTIONS = ("create", "update", "replace", "delete", "unchanged")


@dataclass
class Change:
    kind: str  # "s3 bucket", "glue job", ...
    name: str
    action: str
    detail: str = ""  # what differs, or why a replace
    apply: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")
        if self.action != "unchanged" and self.apply is None:
            raise ValueError(f"{self.kind} {self.name}: a {self.action} needs a function that applies it")


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, change: Change) -> Change:
        self.changes.append(change)
        return change

    def extend(self, changes: list[Change]) -> None:
        self.changes.extend(changes)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def counts(self) -> dict[str, int]:
        counted = Counter(c.action for c in self.changes)
        return {a: counted[a] for a in ACTIONS if counted[a]}

    def summary(self) -> str:
        if not self.has_changes:
            return f"no changes ({len(self.changes)} resources up to date)"
        counts = self.counts()
        parts = [f"{counts[a]} to {a}" for a in ("create", "update", "replace", "delete") if a in counts]
        return ", ".join(parts) + f", {counts.get('unchanged', 0)} unchanged"

    def render(self, *, all_rows: bool = True) -> str:
        rows = [(c.action, c.kind, c.name, c.detail) for c in (self.changes if all_rows else self.pending)]
        lines = [table(rows, ("action", "resource", "name", "detail"))] if rows else []
        lines += [f"note: {n}" for n in self.notes]
        lines.append(self.summary())
        return "\n".join(lines)


def call(fn: Callable[..., object], **kwargs) -> Callable[[], None]:
    """An apply function: one API call with its arguments bound now, made later."""

    def apply() -> None:
        fn(**kwargs)

    return apply
