"""After the five jobs: every published table through its quality gate (Great Expectations).

On AWS this is the workflow's last Glue job; locally, `python spark_jobs/quality_gates.py`
re-checks the embedded lakehouse. The suites are the ones the embedded pipeline runs before
it publishes each table (expectations/); stedi/verify.py says why AWS runs them afterwards.
"""

from stedi.script import run_gates_script

if __name__ == "__main__":
    run_gates_script()
