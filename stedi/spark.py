"""The local SparkSession, sized for a laptop.

One session per process: the pipeline runs all five jobs in it, so the JVM start-up
(about ten seconds) is paid once rather than per job.
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


def local_session(app_name: str = "stedi"):
    """A local[2] session, reused when one is already running in this process."""
    from pyspark.sql import SparkSession

    # Executors run Python for createDataFrame from Arrow; they must use this interpreter
    # (the project's virtual environment), not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder.master(os.environ.get("STEDI_SPARK_MASTER", "local[2]")).appName(app_name)
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
