"""The data sets a run can land: the project's own synthetic generator (the default) and the
Udacity starter data (downloaded and verified against pinned checksums, never committed)."""
