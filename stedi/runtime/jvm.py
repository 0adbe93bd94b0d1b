"""The JVM parts, resolved from Maven Central and checked against a lock: the jars Spark needs for
Iceberg, and the Trino server that stands in for Athena.

Each is a Bundle: a pom declares it once (jvm/pom.xml for Spark, jvm/trino/pom.xml for Trino) and
a lock holds each file's SHA-256 as computed from the real download (`make lock-jars` rewrites
both); the Docker image checks the same Spark lock. On first use
Maven resolves the jars into its local repository (outside the checkout: ~/.m2 unless Maven is
told otherwise), with a progress line; every file is checked against the lock before Spark loads
it, and the check is remembered by size and modification time, so later starts cost nothing.
Where Maven is not installed, Spark's own resolver (`spark.jars.packages`, Ivy) fetches the same
coordinates into the cache directory and the files are checked after it has run. With neither a
cached copy nor a way to download, JarsUnavailable says in one sentence what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from stedi.runtime import settings
from stedi.runtime.progress import bar as progress_bar

CENTRAL = "https://repo1.maven.org/maven2"
# Pinned, so that what resolves the jars is itself a fixed version.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class JarsUnavailable(RuntimeError):
    """The jars are neither cached nor downloadable here; the message says what is missing."""


class JarMismatch(RuntimeError):
    """A resolved jar is not the file the lock names (its SHA-256 differs)."""


@dataclass(frozen=True)
class Bundle:
    """A set of Maven artifacts declared in one pom and pinned by one lock file (under jvm/)."""

    name: str
    pom: str
    lock: str
    what: str  # for messages: "the Iceberg jars for Spark"
    size: str  # for the first download's progress line
    approx_bytes: int  # the first download's bar: its total, approximately
    plural: bool = True

    def pom_path(self) -> Path:
        return settings.project_root() / "jvm" / self.pom

    def lock_path(self) -> Path:
        return settings.project_root() / "jvm" / self.lock


ICEBERG = Bundle("iceberg", "pom.xml", "jars.lock", "the Iceberg jars for Spark", "about 110 MB", 110_000_000)
TRINO = Bundle(
    "trino", "trino/pom.xml", "trino/server.lock", "the Trino server", "about 820 MB", 821_000_000, plural=False
)
BUNDLES = (ICEBERG, TRINO)


@dataclass(frozen=True)
class LockedJar:
    sha256: str
    file: str
    url: str

    @property
    def coordinates(self) -> str:
        """group:artifact:version, from the Maven Central URL."""
        path = self.url.removeprefix(CENTRAL + "/").split("/")
        return f"{'.'.join(path[:-3])}:{path[-3]}:{path[-2]}"


def pom() -> Path:
    return ICEBERG.pom_path()


def lock_file() -> Path:
    return ICEBERG.lock_path()


def locked(path: Path | None = None) -> list[LockedJar]:
    """The lock's entries: `<sha256>  <file>  <url>` per line, `#` comments."""
    entries = []
    for line in (path or lock_file()).read_text().splitlines():
        fields = line.split()
        if fields and not line.startswith("#"):
            entries.append(LockedJar(*fields[:3]))
    return entries


def cache_dir() -> Path:
    """Where resolution results live (STEDI_CACHE, else ~/.cache/stedi): never in the checkout."""
    base = os.environ.get("STEDI_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stedi"
    return Path(base)


def iceberg_jars(progress=None) -> list[Path] | None:
    """The locked jars as verified local files; None when only Spark's own resolver can fetch them
    (no Maven here: use `spark_packages()` and `verify_ivy()`). Raises JarsUnavailable or JarMismatch."""
    return resolve(ICEBERG, progress, without_maven=lambda jars, progress: None)


def trino_server(progress=None) -> Path:
    """The verified Trino server tarball. Without Maven it is downloaded from the lock's URL into
    the cache directory (and checked the same way)."""
    (tarball,) = resolve(TRINO, progress, without_maven=_download)
    return tarball


def resolve(bundle: Bundle, progress=None, *, without_maven) -> list[Path] | None:
    """A bundle's locked files as verified local paths, resolved by Maven on first use (the check is
    remembered by size and mtime). `without_maven(jars, progress)` gives the paths where Maven is
    not installed, or None."""
    jars = locked(bundle.lock_path())
    record = cache_dir() / ("jvm-classpath.json" if bundle is ICEBERG else f"jvm-{bundle.name}.json")
    known = _load(record)
    if known.get("lock") == _digest(bundle.lock_path()) and _unchanged(known.get("files", {})):
        return [Path(p) for p in known["files"]]
    mvn = shutil.which("mvn")
    paths = _maven_classpath(mvn, jars, progress, bundle) if mvn else without_maven(jars, progress)
    if paths is None:
        return None
    files = verify(jars, paths, bundle)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"lock": _digest(bundle.lock_path()), "files": files}))
    return [Path(p) for p in files]


def _download(jars: list[LockedJar], progress) -> list[str]:
    """Maven Central over HTTPS, straight from the lock's URLs (no Maven installed)."""
    import urllib.request

    folder = cache_dir() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for jar in jars:
        target = folder / jar.file
        if not target.is_file() or sha256(target) != jar.sha256:
            if progress:
                progress(f"downloading {jar.url} (Maven is not installed)")
            partial = target.with_suffix(target.suffix + ".part")
            try:
                with (
                    urllib.request.urlopen(jar.url, timeout=60) as response,
                    open(partial, "wb") as out,
                    progress_bar(progress, f"downloading {jar.file}", _length(response), "bytes") as bar,
                ):
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.advance(len(chunk))
            except OSError as error:
                raise JarsUnavailable(f"{jar.file} is not cached here and could not be downloaded from {jar.url} "
                                      f"({error}): connect to Maven Central once") from None
            partial.replace(target)
        paths.append(str(target))
    return paths


def _length(response) -> int | None:
    """The download's size from its Content-Length, when the server sends one."""
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def spark_packages() -> dict[str, str]:
    """Spark settings that make Spark itself (Ivy) fetch the locked coordinates into the cache."""
    return {
        "spark.jars.packages": ",".join(j.coordinates for j in locked()),
        "spark.jars.ivy": str(cache_dir() / "ivy"),
    }


def verify_ivy() -> None:
    """After Spark's resolver ran: the files it fetched are the locked ones."""
    fetched = sorted((cache_dir() / "ivy" / "jars").glob("*.jar"))
    by_name = {}
    for jar in locked():
        group = jar.coordinates.split(":")[0]
        by_name[jar.file] = next((p for p in fetched if p.name == f"{group}_{jar.file}"), None)
    missing = [name for name, path in by_name.items() if path is None]
    if missing:
        raise JarsUnavailable(f"Spark's resolver did not fetch {', '.join(missing)} into {cache_dir() / 'ivy'}")
    verify(locked(), [str(p) for p in by_name.values()])


def verify(jars: list[LockedJar], paths: list[str], bundle: Bundle = ICEBERG) -> dict[str, list]:
    """Each locked jar's file among `paths`, its SHA-256 checked; {path: [size, mtime_ns]}."""
    files = {}
    for jar in jars:
        path = next((Path(p) for p in paths if Path(p).name.endswith(jar.file)), None)
        if path is None or not path.is_file():
            raise JarsUnavailable(f"{jar.file} was not resolved (looked in {', '.join(paths) or 'nothing'})")
        digest = sha256(path)
        if digest != jar.sha256:
            raise JarMismatch(
                f"{path} has SHA-256 {digest}, but jvm/{bundle.lock} pins {jar.sha256}: delete the file and run "
                "again to download it afresh, or `make lock-jars` if the version was changed on purpose"
            )
        stat = path.stat()
        files[str(path)] = [stat.st_size, stat.st_mtime_ns]
    return files


def write_lock(progress=print, bundle: Bundle = ICEBERG) -> Path:
    """Resolve the bundle's pom with Maven and write its lock from the files it downloaded."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsUnavailable("`make lock-jars` needs Apache Maven (mvn) on the PATH")
    paths = _maven_classpath(mvn, None, progress, bundle)
    lines = [
        f"# The JVM files of jvm/{bundle.pom}: <sha256>  <file>  <url>, computed from the files Maven downloaded.",
        "# Checked by stedi/runtime/jvm.py before they are used"
        + (", and by docker/spark/Dockerfile." if bundle is ICEBERG else "."),
        "# Regenerate with: make lock-jars",
    ]
    for path in sorted(Path(p) for p in paths):
        relative = path.as_posix().split("/repository/", 1)[1]
        lines.append(f"{sha256(path)}  {path.name}  {CENTRAL}/{relative}")
    bundle.lock_path().write_text("\n".join(lines) + "\n")
    progress(f"wrote {bundle.lock_path()} ({len(paths)} files)")
    return bundle.lock_path()


def _maven_classpath(mvn: str, jars: list[LockedJar] | None, progress, bundle: Bundle = ICEBERG) -> list[str]:
    output = cache_dir() / ("jvm-classpath.txt" if bundle is ICEBERG else f"jvm-{bundle.name}.txt")
    output.parent.mkdir(parents=True, exist_ok=True)
    if progress and jars:
        progress(f"resolving {bundle.what} with Maven ({', '.join(j.file for j in jars)}); the first time "
                 f"this downloads {bundle.size} from Maven Central")
    started = time.perf_counter()
    command = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(bundle.pom_path()),
               f"{DEPENDENCY_PLUGIN}:build-classpath", f"-Dmdep.outputFile={output}"]
    result = _run_watched(command, jars, bundle, progress)
    if result.returncode != 0:
        reason = _maven_reason(result.stdout + result.stderr)
        wanted = ", ".join(j.file for j in jars or []) or bundle.pom
        fallback = (", or run the embedded stack on the pyiceberg bridge (STEDI_TABLE_IO=pyiceberg)"
                    if bundle is ICEBERG else "")
        raise JarsUnavailable(
            f"{bundle.what} ({wanted}) {'are' if bundle.plural else 'is'} not cached here and Maven could not "
            f"fetch {'them' if bundle.plural else 'it'} from "
            f"Maven Central ({reason}; command: {' '.join(command)}): connect to Maven Central once{fallback}"
        )
    paths = [p for p in output.read_text().strip().split(os.pathsep) if p]
    if progress and jars:
        progress(f"resolved {bundle.what} in {time.perf_counter() - started:.1f}s")
    return paths


def _run_watched(command: list[str], jars: list[LockedJar] | None, bundle: Bundle, progress):
    """Maven, with a bar of the bytes of the locked files in its local repository (in flight ones
    included) against the bundle's approximate size; the time so far when it resolves unlocked."""
    repository = Path.home() / ".m2" / "repository"
    folders = {repository / j.url.removeprefix(CENTRAL + "/").rsplit("/", 1)[0] for j in jars or []}

    def present() -> int:
        return sum(f.stat().st_size for d in folders if d.is_dir() for f in d.iterdir() if f.is_file())

    already = present()  # what an earlier, interrupted resolve left there
    total = max(0, bundle.approx_bytes - already) if folders else None
    with (
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process,
        progress_bar(progress, f"Maven: {bundle.what}", total, "bytes" if folders else "") as bar,
    ):
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
        reader.start()
        while process.poll() is None:
            if folders:
                bar.advance(max(0, present() - already - bar.done))
            time.sleep(0.5)
        reader.join()
    return subprocess.CompletedProcess(command, process.returncode, "".join(output), "")


def _maven_reason(text: str) -> str:
    lines = [_ANSI.sub("", line) for line in text.splitlines()]
    errors = [line.removeprefix("[ERROR]").strip() for line in lines if line.startswith("[ERROR]")]
    reason = next((e for e in errors if e), lines[-1] if lines else "no output")
    reason = re.sub(r"\s+", " ", reason).strip()
    return reason if len(reason) <= 400 else reason[:400].rsplit(" ", 1)[0] + " ..."


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unchanged(files: dict[str, list]) -> bool:
    if not files:
        return False
    for path, (size, mtime) in files.items():
        try:
            stat = os.stat(path)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
            return False
    return True


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    """`python -m stedi.runtime.jvm lock` (make lock-jars), `resolve` (make jars: the verified jars) or
    `trino` (the verified Trino server tarball)."""
    import sys

    command = (argv if argv is not None else sys.argv[1:]) or ["resolve"]
    try:
        if command[0] == "lock":
            for bundle in BUNDLES:
                write_lock(bundle=bundle)
        elif command[0] == "trino":
            print(trino_server(print))
        else:
            jars = iceberg_jars(print)
            if jars is None:
                print("Maven is not installed here: Spark's own resolver fetches the jars on its first start")
            for path in jars or []:
                print(path)
    except (JarsUnavailable, JarMismatch) as error:
        print(f"stedi: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
