"""Job bookmarks as AWS Glue keeps them: what a job's S3 sources have already read.

`--job-bookmark-option` is `job-bookmark-enable`, `job-bookmark-pause` or `job-bookmark-disable`
(the default). With enable or pause a source that has a `transformation_ctx` reads only the files
modified since its bookmark; with enable, `job.commit()` saves the new bookmark (a run that fails
before its commit saves nothing); pause never saves; disable reads everything.

State is one JSON file per job beside the stack's state (`<state>/glue-bookmarks/<job>.json`),
one element per transformation_ctx. As Glue does for S3, an element holds the newest
last-modified time read (the high-water mark) and the files modified within the band before it
(Glue's `maxBand`, 15 minutes), so a file written in the same instant as one already read is not
lost. `stedi glue reset-bookmark JOB` deletes the file, as `aws glue reset-job-bookmark` does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

OPTIONS = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")
DEFAULT = "job-bookmark-disable"
MAX_BAND_MS = 900_000  # Glue's default maxBand


class BookmarkError(ValueError):
    """An unknown bookmark option."""


def path(directory: Path, job: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job)
    return directory / f"{safe}.json"


def reset(directory: Path, job: str) -> bool:
    """Forget the job's bookmark; returns whether it had one."""
    target = path(directory, job)
    existed = target.exists()
    target.unlink(missing_ok=True)
    return existed


@dataclass
class Bookmarks:
    """A job's bookmarks for one run: what the sources may read, and what commit() will save."""

    directory: Path
    job: str
    option: str = DEFAULT
    saved: dict = field(default_factory=dict)
    pending: dict = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, job: str, option: str | None) -> Bookmarks:
        option = option or DEFAULT
        if option not in OPTIONS:
            raise BookmarkError(f"--job-bookmark-option must be one of {', '.join(OPTIONS)}, not {option!r}")
        try:
            saved = json.loads(path(directory, job).read_text())
        except FileNotFoundError:
            saved = {}
        return cls(directory, job, option, saved)

    @property
    def active(self) -> bool:
        return self.option != "job-bookmark-disable"

    @property
    def run(self) -> int:
        return int(self.saved.get("run", 0))

    def select(self, context: str, objects: list) -> tuple[list, int]:
        """The objects (with `.uri` and `.last_modified_ms`) a bookmarked source reads this run, and
        how many it skips; remembers what a commit would save."""
        if not self.active or not context:
            return objects, 0
        state = self.saved.get("contexts", {}).get(context, {})
        high = int(state.get("high_water_ms", -1))
        band = set(state.get("band", []))
        fresh = [o for o in objects if o.last_modified_ms > high or (o.last_modified_ms > high - MAX_BAND_MS
                                                                       and o.uri not in band)]
        newest = max([o.last_modified_ms for o in fresh] + [high])
        self.pending[context] = {  # every object listed now was read, this run or before
            "high_water_ms": newest,
            "band": sorted({o.uri for o in objects if o.last_modified_ms > newest - MAX_BAND_MS}),
        }
        return fresh, len(objects) - len(fresh)

    def commit(self) -> bool:
        """Save what this run read (enable only); returns whether anything was saved."""
        if self.option != "job-bookmark-enable":
            return False
        contexts = {**self.saved.get("contexts", {}), **self.pending}
        state = {"job": self.job, "run": self.run + 1, "version": int(self.saved.get("version", 0)) + 1,
                 "contexts": contexts}
        self.directory.mkdir(parents=True, exist_ok=True)
        target = path(self.directory, self.job)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(json.dumps(state, indent=1))
        os.replace(temporary, target)
        self.saved, self.pending = state, {}
        return True


_this_run: Bookmarks | None = None  # what `job.init` loaded for the script now running


def start(loaded: Bookmarks | None) -> None:
    global _this_run
    _this_run = loaded


def this_run() -> Bookmarks:
    """The bookmarks of the script now running (disabled before, or without, a `job.init`)."""
    return _this_run if _this_run is not None else Bookmarks(Path("."), "", DEFAULT)
