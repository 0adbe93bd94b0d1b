"""The local SparkSession, sized for a laptop, with Iceberg's Spark runtime when its jars are here.

One JVM per process: the pipeline runs all five jobs in it, so the start-up (about ten seconds) is
paid once rather than per job. The Iceberg jars (stedi/runtime/jvm.py) are loaded when the JVM
starts, so the first session of a process decides whether Iceberg's Spark catalog is available;
each run then takes a new session on that JVM with its own catalog settings (`iceberg_session`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCAL_CONF = {
    "spark.ui.enabled": "false",
    # Bind the driver to loopback: nothing on the network needs to reach a local run.
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    # The default of 200 shuffle partitions costs more in task overhead than it saves
    # on a two-core machine with tables of a few million rows.
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.sql.ansi.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


def local_session(app_name: str = "stedi", *, iceberg: bool = True, progress=None):
    """A local[2] session, reused when one is already running in this process.

    With `iceberg`, the JVM starts with the locked Iceberg jars (resolved on first use) and
    Iceberg's SQL extensions; JarsUnavailable says what is missing when they cannot be had.
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:  # this process's JVM runs: its jars are set
        return SparkSession.builder.getOrCreate()

    prepare_environment()
    conf, jars, fetched_by_spark = session_settings(iceberg=iceberg, progress=progress)
    builder = SparkSession.builder.master(master()).appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    if jars and os.environ.get("PYSPARK_GATEWAY_PORT"):
        _add_to_running_jvm(jars)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    if fetched_by_spark:
        from stedi.runtime import jvm

        try:
            jvm.verify_ivy()
        except Exception:
            session.stop()
            raise
    return session


def master() -> str:
    return os.environ.get("STEDI_SPARK_MASTER", "local[2]")


def prepare_environment() -> None:
    """Executors run Python for createDataFrame from Arrow and for Python functions; they must use
    this interpreter (the project's virtual environment), not whatever `python3` is first on PATH."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


def session_settings(*, iceberg: bool = True, progress=None) -> tuple[dict[str, str], list[Path], bool]:
    """The Spark settings every local session starts with, the Iceberg jars on its class path, and
    whether Spark's own resolver fetches them (no Maven here): the one recipe for a session built
    in this process (`local_session`) and for one a script builds itself (`submit_arguments`)."""
    conf = dict(LOCAL_CONF)
    java_options = [f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}"]
    jars: list[Path] = []
    fetched_by_spark = False
    if iceberg:
        from stedi.runtime import jvm

        resolved = jvm.iceberg_jars(progress)
        if resolved is None:  # no Maven here: Spark's own resolver fetches the same coordinates
            fetched_by_spark = True
            conf.update(jvm.spark_packages())
        else:
            jars = list(resolved)
            conf["spark.jars"] = ",".join(str(j) for j in jars)
        conf["spark.sql.extensions"] = ICEBERG_EXTENSIONS
        # The AWS SDK inside Iceberg must never ask the EC2 instance metadata service (169.254.169.254)
        # for credentials: every endpoint it talks to here is on loopback.
        java_options.append("-Daws.disableEc2Metadata=true")
    conf["spark.driver.extraJavaOptions"] = " ".join(java_options)
    return conf, jars, fetched_by_spark


def submit_arguments(app_name: str, *, iceberg: bool = True, progress=None) -> str:
    """PYSPARK_SUBMIT_ARGS for a script that makes its own context (`SparkContext()`, as every
    AWS Glue script does): the settings `local_session` starts with, no secret among them (keys are
    set in the running JVM, never on a command line)."""
    import shlex

    prepare_environment()
    conf, _, _ = session_settings(iceberg=iceberg, progress=progress)
    words = ["--master", master(), "--name", app_name]
    for key, value in conf.items():
        words += ["--conf", f"{key}={value}"]
    return shlex.join([*words, "pyspark-shell"])


def _add_to_running_jvm(jars) -> None:
    """Under `spark-submit` the JVM is up before this code runs, so `spark.jars` no longer reaches the
    driver's class path: the jars join the driver's class loader (Spark's MutableURLClassLoader)
    before the session, and with it Iceberg's extensions and catalog, is created. Local mode runs
    the executor in the same JVM, under that loader."""
    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    gateway = SparkContext._jvm
    loader = gateway.java.lang.Thread.currentThread().getContextClassLoader()
    for jar in jars:
        loader.addURL(gateway.java.io.File(str(jar)).toURI().toURL())


def has_iceberg(spark) -> bool:
    """Whether this session's JVM carries Iceberg's Spark runtime."""
    return ICEBERG_EXTENSIONS in (spark.conf.get("spark.sql.extensions", "") or "")


def iceberg_session(base, catalog: str, properties: dict[str, str], system_properties: dict[str, str] | None = None):
    """A new session on `base`'s JVM whose Spark catalog `catalog` is Iceberg's, with `properties`.

    A new session has catalogs of its own, so a stack that restarted on another port is never
    reached through a catalog configured for the old one. `system_properties` are set in the
    driver JVM first (the AWS SDK reads the Glue client's credentials from them).
    """
    if system_properties:
        system = base._jvm.java.lang.System
        for key, value in system_properties.items():
            system.setProperty(key, value)
    session = base.newSession()
    session.conf.set(f"spark.sql.catalog.{catalog}", "org.apache.iceberg.spark.SparkCatalog")
    for key, value in properties.items():
        session.conf.set(f"spark.sql.catalog.{catalog}.{key}", value)
    return session
