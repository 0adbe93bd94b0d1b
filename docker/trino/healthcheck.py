"""The Trino service's health check: the server has finished starting (`GET /v1/info`). Whether it
can scan a table is asked next by `make up` with the trino client (stedi/targets/compose.py)."""

import json
import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:8080/v1/info", timeout=5) as response:
        info = json.loads(response.read())
except (OSError, ValueError) as error:
    sys.exit(f"unhealthy: {error}")
sys.exit("unhealthy: starting" if info.get("starting", True) else 0)
