"""The S3 service's health check: LocalStack says S3 runs, its init hooks are done, and the lakehouse
bucket answers. Standard library only; exits 0 when healthy, else 1 with the reason."""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:4566"


def get(path: str, method: str = "GET"):
    with urllib.request.urlopen(urllib.request.Request(BASE + path, method=method), timeout=5) as response:
        return response.status, response.read()


try:
    _, health = get("/_localstack/health")
    if json.loads(health)["services"].get("s3") not in ("running", "available"):
        sys.exit(f"unhealthy: S3 is {json.loads(health)['services'].get('s3')}")
    _, ready = get("/_localstack/init/ready")
    if not json.loads(ready).get("completed"):
        sys.exit("unhealthy: the init hooks have not finished")
    get("/" + os.environ["STEDI_BUCKET"], method="HEAD")
except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
    sys.exit(f"unhealthy: {error}")
