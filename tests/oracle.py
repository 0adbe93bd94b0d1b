"""The expected table counts, computed in plain Python straight from the landing JSON.

Deliberately shares no code with the jobs: it is the independent second opinion the
end-to-end tests compare the Spark pipeline against.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from expectations.reconciliation import PUBLISHED_RUBRIC

PUBLISHED = {
    # ../shared/data/README.md: the counts the course's graders check (declared once, for the gates)
    "rubric": PUBLISHED_RUBRIC,
    # the strict policy on the same data, for reference
    "strict": {
        "customer_landing": 956,
        "accelerometer_landing": 81_273,
        "step_trainer_landing": 28_680,
        "customer_trusted": 482,
        "accelerometer_trusted": 32_025,
        "customers_curated": 464,
        "step_trainer_trusted": 11_297,
        "machine_learning_curated": 32_025,
    },
}


def records(directory: Path, source: str) -> list[dict]:
    rows = []
    for path in sorted((directory / source / "landing").glob("*.json")):
        with path.open() as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


def expected_counts(directory: Path, policy: str) -> tuple[dict[str, int], int]:
    """The eight table counts, and how many ML rows pair two different customers."""
    customers = records(directory, "customer")
    motion = records(directory, "accelerometer")
    steps = records(directory, "step_trainer")
    norm = lambda email: email.strip().lower()  # noqa: E731
    strict = policy == "strict"

    consenting = [c for c in customers if c.get("shareWithResearchAsOfDate")]
    consent = {norm(c["email"]): c["shareWithResearchAsOfDate"] for c in consenting}
    trusted_motion = [
        r for r in motion if norm(r["user"]) in consent and (not strict or r["timestamp"] >= consent[norm(r["user"])])
    ]
    users_with_motion = {norm(r["user"]) for r in trusted_motion}
    curated = [c for c in consenting if norm(c["email"]) in users_with_motion]
    owner = {c["serialNumber"]: norm(c["email"]) for c in curated}
    trusted_steps = [
        s
        for s in steps
        if s["serialNumber"] in owner and (not strict or s["sensorReadingTime"] >= consent[owner[s["serialNumber"]]])
    ]
    if strict:
        crossed = 0
        per_user_moment = Counter((norm(r["user"]), r["timestamp"]) for r in trusted_motion)
        ml = sum(per_user_moment[(owner[s["serialNumber"]], s["sensorReadingTime"])] for s in trusted_steps)
    else:
        per_moment = Counter(r["timestamp"] for r in trusted_motion)
        ml = sum(per_moment[s["sensorReadingTime"]] for s in trusted_steps)
        per_user_moment = Counter((norm(r["user"]), r["timestamp"]) for r in trusted_motion)
        crossed = ml - sum(per_user_moment[(owner[s["serialNumber"]], s["sensorReadingTime"])] for s in trusted_steps)
    return {
        "customer_landing": len(customers),
        "accelerometer_landing": len(motion),
        "step_trainer_landing": len(steps),
        "customer_trusted": len(consenting),
        "accelerometer_trusted": len(trusted_motion),
        "customers_curated": len(curated),
        "step_trainer_trusted": len(trusted_steps),
        "machine_learning_curated": ml,
    }, crossed


def expected_by_policy(directory: Path) -> dict[str, dict[str, int]]:
    """Both policies' counts in the generator's `expected` layout (rubric adds crossed pairs)."""
    rubric, crossed = expected_counts(directory, "rubric")
    strict, _ = expected_counts(directory, "strict")
    return {"rubric": {**rubric, "cross_customer_pairs": crossed}, "strict": strict}
