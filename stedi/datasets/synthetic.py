"""Synthetic landing data that sets the same traps as the Udacity starter data.

The starter data may not ship with the project (its license forbids it), yet the pipeline
must be exercised on data that breaks naive code the same way. So this generator mimics
the starter data's layout, field types and formatting, and its traps:

- a consent never given is an ABSENT key, so a `!= 0` test keeps everyone;
- readings start before the research consent, so consent-dated filtering matters;
- accelerometer timestamps are shared between customers, so a join on time alone pairs
  one person's distance with another person's motion;
- (user, timestamp) is not a key: 1 to 6 accelerometer rows per pair;
- every step reading coincides with an accelerometer time of the same customer, so a
  per-customer join has matches;
- some customers have no readings at all; birthdays carry fake years (e.g. 967).

Alongside the files it computes the row counts a correct pipeline must produce under two
policies, "rubric" (what the course graders publish) and "strict" (consent-dated and
per-customer), while streaming, so a run of 100,000 customers stays in bounded memory.
The same seed and customer count always give byte-identical files.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stedi.runtime.progress import bar as progress_bar

SOURCES = ("customer", "accelerometer", "step_trainer")
TABLES = (
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "customers_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
)

# The starter data's export wrote at most 10,000 lines per file.
FILE_ROWS = 10_000
# File names carry an epoch, like the starter data's; a fixed one keeps reruns identical.
FILE_EPOCH_MS = 1_700_000_000_000
# Registrations start in the starter data's era (June 2022).
DATA_EPOCH_MS = 1_655_560_000_000

# Customers register on average this far apart. With 30 reading times spread over ~90 s
# per customer, this density makes ~10% of a customer's reading times coincide with
# another customer's (as in the starter data), which is what makes a join on time alone
# go wrong: it adds ~6% of foreign rows to the rubric's machine_learning_curated.
MEAN_REGISTRATION_GAP_MS = 200
# Each customer has 30 reading times, evenly spaced, ending shortly after registration:
# so the first readings predate registration (and the consent given at registration).
READING_TIMES = 30
READING_STEP_MS = (2_033, 4_000)
LAST_READING_AFTER_REGISTRATION_MS = (66_000, 74_100)
EARLIEST_READING_AFTER_REGISTRATION_MS = (
    LAST_READING_AFTER_REGISTRATION_MS[0] - (READING_TIMES - 1) * READING_STEP_MS[1]
)
# A few customers update their profile (and give their consents) after their session,
# so most or all of their readings predate their consent; a few more update 1 ms later.
P_LATE_UPDATE = 0.04
LATE_UPDATE_MS = (68_000, 82_000)
P_ONE_MS_UPDATE = 0.01
P_CONSENT = 0.5
P_NO_READINGS = 0.02
# Accelerometer rows per (user, timestamp), as weights per 10,000: mostly 3, some 2,
# rarely 1, 4, 5 or 6.
ROWS_PER_TIME = {1: 30, 2: 1_600, 3: 8_367, 4: 1, 5: 1, 6: 1}
DISTANCE = (200, 300)
BIRTH_YEARS = (967, 1964)
PHONE = "8015551212"
EMAIL_DOMAIN = "test.com"

FIRST_NAMES = (
    "Ada",
    "Alex",
    "Amir",
    "Ana",
    "Ben",
    "Carla",
    "Chen",
    "Dana",
    "David",
    "Elena",
    "Emeka",
    "Fatima",
    "Frank",
    "Grace",
    "Hana",
    "Ivan",
    "Jaya",
    "Jonas",
    "Kenji",
    "Lara",
    "Leo",
    "Lina",
    "Marco",
    "Maya",
    "Nadia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Sofia",
    "Tariq",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Zane",
    "Zoe",
)
LAST_NAMES = (
    "Abbott",
    "Baker",
    "Costa",
    "Diaz",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
    "Novak",
    "Moreau",
    "Larsen",
    "Keller",
    "Hughes",
    "Grant",
    "Ferreira",
    "Evans",
    "Dubois",
    "Chowdhury",
    "Brennan",
    "Alvarez",
    "Petrov",
    "Sato",
)

_AXIS = (-1.0, 0.0, 1.0)
_XYZ = tuple(f'"x":{x},"y":{y},"z":{z}' for x in _AXIS for y in _AXIS for z in _AXIS)
_ROW_COUNTS = tuple(ROWS_PER_TIME)
_ROW_WEIGHTS = tuple(ROWS_PER_TIME.values())


def generate(
    out_dir: Path,
    customers: int = 1000,
    seed: int = 42,
    policy_counts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write a landing directory and return (and save) its record and expected row counts.

    Files already generated in the landing folders are replaced, so a smaller rerun never
    leaves a larger run's files behind. With `policy_counts=False` the expected table
    counts are skipped (the result has no "expected" key).
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    writers = {source: _LandingWriter(out_dir, source) for source in SOURCES}
    tally = _Tally() if policy_counts else None
    try:
        with progress_bar(progress, f"generating {customers:,} customers", customers, "customers") as bar:
            for person, accelerometer, steps in _people(rng, customers):
                writers["customer"].write(person.line)
                for _, line in accelerometer:
                    writers["accelerometer"].write(line)
                for _, line in steps:
                    writers["step_trainer"].write(line)
                if tally:
                    tally.add(person, [t for t, _ in accelerometer], [t for t, _ in steps])
                if person.index % 500 == 0:
                    bar.advance(500)
            bar.advance(customers - bar.done)
    finally:
        for writer in writers.values():
            writer.close()
    result = {
        "seed": seed,
        "customers": customers,
        "files": {source: writers[source].records for source in SOURCES},
    }
    if tally:
        result["expected"] = tally.expected()
    (out_dir / "expected_counts.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if progress:
        progress(f"wrote {customers:,} customers to {out_dir}")
    return result


@dataclass(frozen=True)
class _Person:
    index: int
    registration: int
    line: str
    email: str
    consent: int | None


def _people(rng: random.Random, count: int):
    """Customers in registration order, each with its readings as (time, line) pairs.

    Registration times only grow, which is what lets the tally settle early times.
    """
    names = _name_order(rng)
    serials: set[int] = set()
    registration = DATA_EPOCH_MS
    for index in range(1, count + 1):
        registration += rng.randint(1, 2 * MEAN_REGISTRATION_GAP_MS - 1)
        name, round_ = names[(index - 1) % len(names)], (index - 1) // len(names)
        record = _customer(rng, name, round_, registration, serials)
        consent = record.get("shareWithResearchAsOfDate")
        person = _Person(index, registration, json.dumps(record) + "\n", record["email"], consent)
        if rng.random() < P_NO_READINGS:
            yield person, [], []
            continue
        times = _reading_times(rng, registration)
        yield person, _accelerometer(rng, person.email, times), _steps(rng, record["serialNumber"], times)


def _name_order(rng: random.Random) -> list[tuple[str, str]]:
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    return names


def _customer(rng: random.Random, name: tuple[str, str], round_: int, registration: int, serials: set[int]) -> dict:
    """One customer record, keys in the starter data's order; consents never given are left out."""
    first, last = name
    suffix = str(round_) if round_ else ""  # keeps emails unique once the name pairs run out
    updated = _last_update(rng, registration)
    record = {
        "customerName": f"{first} {last}",
        "email": f"{first}.{last}{suffix}@{EMAIL_DOMAIN}",
        "phone": PHONE,
        "birthDay": f"{rng.randint(*BIRTH_YEARS)}-01-01",  # years below 1000 unpadded, as in the starter data
        "serialNumber": _serial(rng, serials),
        "registrationDate": registration,
        "lastUpdateDate": updated,
    }
    for consent in ("shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"):
        if rng.random() < P_CONSENT:
            record[consent] = updated
    return record


def _last_update(rng: random.Random, registration: int) -> int:
    draw = rng.random()
    if draw < P_LATE_UPDATE:
        return registration + rng.randint(*LATE_UPDATE_MS)
    if draw < P_LATE_UPDATE + P_ONE_MS_UPDATE:
        return registration + 1
    return registration


def _serial(rng: random.Random, taken: set[int]) -> str:
    """A uuid4 drawn from the seeded generator; never repeated, since it identifies a customer."""
    while True:
        value = uuid.UUID(int=rng.getrandbits(128), version=4)
        if value.int not in taken:
            taken.add(value.int)
            return str(value)


def _reading_times(rng: random.Random, registration: int) -> list[int]:
    step = rng.randint(*READING_STEP_MS)
    last = registration + rng.randint(*LAST_READING_AFTER_REGISTRATION_MS)
    return [last - k * step for k in range(READING_TIMES)]


def _accelerometer(rng: random.Random, email: str, times: list[int]) -> list[tuple[int, str]]:
    """Several distinct rows per time, in shuffled order, formatted like the starter data (compact JSON)."""
    rows = []
    for time in times:
        count = rng.choices(_ROW_COUNTS, _ROW_WEIGHTS)[0]
        for xyz in rng.sample(_XYZ, count):
            rows.append((time, f'{{"user":"{email}","timestamp":{time},{xyz}}}\n'))
    rng.shuffle(rows)
    return rows


def _steps(rng: random.Random, serial: str, times: list[int]) -> list[tuple[int, str]]:
    """One step reading at each of the customer's accelerometer times, in shuffled order."""
    rows = []
    for time in times:
        distance = rng.randint(*DISTANCE)
        rows.append(
            (time, f'{{"sensorReadingTime":{time},"serialNumber":"{serial}","distanceFromObject":{distance}}}\n')
        )
    rng.shuffle(rows)
    return rows


class _LandingWriter:
    """Streams one source's lines into `<source>/landing/<source>-<epoch>.json` files of at most FILE_ROWS lines."""

    def __init__(self, out_dir: Path, source: str):
        self.folder = out_dir / source / "landing"
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(f"{source}-*.json"):
            stale.unlink()
        self.source = source
        self.records = 0
        self._files = 0
        self._handle = None

    def write(self, line: str) -> None:
        if self.records % FILE_ROWS == 0:
            self._next_file()
        self._handle.write(line)
        self.records += 1

    def close(self) -> None:
        if self._handle:
            self._handle.close()
            self._handle = None

    def _next_file(self) -> None:
        self.close()
        epoch = FILE_EPOCH_MS + SOURCES.index(self.source) * 1_000_000 + self._files * 50
        self._handle = open(self.folder / f"{self.source}-{epoch}.json", "w", encoding="utf-8", newline="\n")
        self._files += 1


class _Tally:
    """Expected table counts, built customer by customer.

    Everything except the rubric's machine_learning_curated is per customer. That one
    joins on time alone across customers, so it keeps, per timestamp, how many trusted
    accelerometer rows and trusted step readings have it, and multiplies the two once no
    later customer can still produce that timestamp (registrations only grow), so the
    maps only ever span a few minutes of readings.
    """

    def __init__(self):
        self.rubric = Counter({table: 0 for table in TABLES})
        self.strict = Counter({table: 0 for table in TABLES})
        self._accelerometer_at: dict[int, int] = {}
        self._steps_at: dict[int, int] = {}
        self._same_customer_pairs = 0

    def add(self, person: _Person, accelerometer: list[int], steps: list[int]) -> None:
        """Count one customer, given the timestamp of each of its accelerometer rows and step readings."""
        for counts in (self.rubric, self.strict):
            counts["customer_landing"] += 1
            counts["accelerometer_landing"] += len(accelerometer)
            counts["step_trainer_landing"] += len(steps)
        if person.consent:
            self._same_customer_pairs += self._count_trusted(self.rubric, accelerometer, steps)
            since_consent = _since(accelerometer, person.consent), _since(steps, person.consent)
            self.strict["machine_learning_curated"] += self._count_trusted(self.strict, *since_consent)
            self._remember_times(accelerometer, steps)
        if person.index % 256 == 0:
            self._settle(person.registration + EARLIEST_READING_AFTER_REGISTRATION_MS)

    def expected(self) -> dict:
        self._settle(math.inf)
        rubric = dict(self.rubric)
        rubric["cross_customer_pairs"] = rubric["machine_learning_curated"] - self._same_customer_pairs
        return {"rubric": rubric, "strict": dict(self.strict)}

    @staticmethod
    def _count_trusted(counts: Counter, accelerometer: list[int], steps: list[int]) -> int:
        """Count one trusted customer's rows; returns how many (step, accelerometer) pairs
        of its own share a timestamp, i.e. its rows of a per-customer join."""
        counts["customer_trusted"] += 1
        counts["accelerometer_trusted"] += len(accelerometer)
        if not accelerometer:
            return 0  # not curated, so its steps are not trusted
        counts["customers_curated"] += 1
        counts["step_trainer_trusted"] += len(steps)
        own = Counter(accelerometer)
        return sum(own[t] for t in steps)

    def _remember_times(self, accelerometer: list[int], steps: list[int]) -> None:
        """Feed the rubric's join on time alone (only curated customers' steps take part)."""
        if not accelerometer:
            return
        for time in accelerometer:
            self._accelerometer_at[time] = self._accelerometer_at.get(time, 0) + 1
        for time in steps:
            self._steps_at[time] = self._steps_at.get(time, 0) + 1

    def _settle(self, before: float) -> None:
        """Join the timestamps no later customer can produce any more, and forget them."""
        for time in [t for t in self._steps_at if t < before]:
            matches = self._accelerometer_at.get(time, 0)
            self.rubric["machine_learning_curated"] += self._steps_at.pop(time) * matches
        for time in [t for t in self._accelerometer_at if t < before]:
            del self._accelerometer_at[time]


def _since(times: list[int], consent: int) -> list[int]:
    return [t for t in times if t >= consent]


def landing_of(request, progress=None) -> Path:
    """A run's landing directory (stedi.runtime.params.RunRequest): the one it names, or the
    generator's data set for its seed and size."""
    return request.landing or landing_for(request.seed, request.customers, progress)


def landing_for(seed: int, customers: int, progress=None) -> Path:
    """The generator's data set for this seed and size under the state home, made once and reused."""
    from stedi.runtime import settings

    directory = settings.state_home() / "synthetic" / f"seed-{seed}-customers-{customers}"
    if not (directory / "expected_counts.json").exists():
        if progress:
            progress(f"generating synthetic landing data: {customers:,} customers, seed {seed}")
        generate(directory, customers=customers, seed=seed, progress=progress)
    return directory
