import hashlib
import hmac

from pyspark.sql import functions as F

from stedi.pseudonym import hmac_sha256


def test_spark_hmac_matches_python_hmac_for_short_and_long_keys(spark):
    values = ["50f7b4f3-7af5-4b07-a421-7b902c8d2b7c", "", "Ana.Lee@test.com", "ü-ñ"]
    for key in (b"k" * 16, bytes(range(32)), b"x" * 100):
        frame = spark.createDataFrame([(v,) for v in values] + [(None,)], "v string")
        got = {r.v: r.h for r in frame.select("v", hmac_sha256(F.col("v"), key).alias("h")).collect()}
        expected = {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values}
        assert got == {**expected, None: None}
