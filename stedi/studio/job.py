"""Glue's Job: `job.init(name, args)` loads the job's bookmarks, `job.commit()` saves them.

The bookmark option comes from the resolved arguments (`--job-bookmark-option`), as on AWS; a
script that never calls `init` reads every source whole.
"""

from __future__ import annotations

from pathlib import Path

from stedi.studio import bookmarks
from stedi.studio.bookmarks import Bookmarks
from stedi.studio.session import current

_committed = False  # job.commit() was called


def reset() -> None:
    """A new script in this process starts without the last one's bookmarks."""
    global _committed
    bookmarks.start(None)
    _committed = False


def committed() -> bool:
    return _committed


class Job:
    def __init__(self, glue_context):
        """A GlueContext, or (since Glue 5.0) a SparkSession."""
        if not hasattr(glue_context, "spark_session") and not hasattr(glue_context, "sparkContext"):
            raise TypeError(f"cannot init Job instance given input parameter type: {type(glue_context)}")
        self._context = glue_context
        self._name: str | None = None

    def init(self, job_name: str, args: dict | None = None) -> None:
        session = current()
        option = (args or {}).get("job_bookmark_option")
        self._name = job_name or session.job_name
        loaded = Bookmarks.load(Path(session.bookmarks), self._name, option)
        bookmarks.start(loaded)
        if loaded.active:
            session.say(f"job {self._name}: bookmarks {loaded.option.removeprefix('job-bookmark-')} "
                        f"(run {loaded.run + 1})")

    def isInitialized(self) -> bool:  # noqa: N802
        return self._name is not None

    def commit(self) -> None:
        global _committed
        loaded = bookmarks.this_run()
        if loaded.commit():
            current().say(f"job {self._name}: bookmark saved ({len(loaded.saved['contexts'])} sources)")
        _committed = True
