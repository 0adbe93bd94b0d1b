"""The erasure job on AWS: `stedi aws forget` (`make forget-aws`) leaves the addresses in a request
object and starts this job under its own role; every row, snapshot and landing record of those
people goes, as `stedi forget` does locally (stedi/privacy/erase.py). Not part of the pipeline's
workflow: it runs on request only.
"""

from stedi.privacy.glue_job import run_forget_script

if __name__ == "__main__":
    run_forget_script()
