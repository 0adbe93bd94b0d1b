"""The Docker stack's Iceberg REST catalog, from the host: drop the tables whose files are gone.

Standard library only (urllib): it runs right after `make up`, before anything else is needed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from stedi.targets.compose import DockerStackError, catalog_url


def reconcile(namespace: str, progress=print) -> list[str]:
    """After a restart of LocalStack (which keeps S3 in memory): forget what it lost, and say so."""
    dropped = drop_dangling_tables(catalog_url(), namespace)
    if dropped:
        progress(
            f"dropped {len(dropped)} tables from the Iceberg catalog whose files LocalStack lost when it "
            f"restarted (its free edition keeps S3 in memory): {', '.join(dropped)}; `make pipeline` rebuilds them"
        )
    return dropped


def drop_dangling_tables(catalog: str, namespace: str) -> list[str]:
    """Unregister the tables whose metadata files are gone.

    The catalog's database is on a volume and survives restarts; LocalStack's free edition keeps
    S3 in memory, so after `make down` and `make up` the catalog would point at files that no
    longer exist, and every job writing those tables would fail. A table that the catalog lists
    but cannot load (HTTP 404: its metadata file is missing) is dropped without purge.
    """
    base = _rest_namespace_url(catalog, namespace) + "/tables"
    status, body = request_json("GET", base)
    if status == 404:
        return []  # no namespace yet
    if status != 200:
        raise DockerStackError(f"the Iceberg catalog at {catalog} answered HTTP {status} when listing {namespace}")
    dropped = []
    for identifier in body.get("identifiers", []):
        name = identifier["name"]
        table_url = f"{base}/{urllib.parse.quote(name)}"
        status, body_ = request_json("GET", table_url)
        if status == 200:
            continue
        if not _missing_metadata(status, body_):
            raise DockerStackError(
                f"the Iceberg catalog cannot load {namespace}.{name}: HTTP {status} {message(body_)}"
            )
        status, body_ = request_json("DELETE", table_url)
        if status not in (200, 204):
            raise DockerStackError(f"the Iceberg catalog could not drop {namespace}.{name}: HTTP {status}")
        dropped.append(name)
    return dropped


def _rest_namespace_url(catalog: str, namespace: str) -> str:
    status, config = request_json("GET", f"{catalog}/v1/config")
    if status != 200:
        raise DockerStackError(f"the Iceberg catalog at {catalog} answered HTTP {status}")
    prefix = {**config.get("defaults", {}), **config.get("overrides", {})}.get("prefix")
    root = f"{catalog}/v1/{prefix}" if prefix else f"{catalog}/v1"
    return f"{root}/namespaces/{urllib.parse.quote(namespace)}"


def _missing_metadata(status: int, body: dict) -> bool:
    text = message(body)
    return status == 404 or (status >= 500 and any(s in text for s in ("NotFound", "NoSuchKey", "does not exist")))


def message(body: dict) -> str:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return f"{error.get('type', '')}: {error.get('message', '')}".strip(": ")


def request_json(
    method: str, url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 30
) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    except (urllib.error.URLError, OSError) as error:
        raise DockerStackError(f"{url} does not answer ({error}): is the Docker stack up (`make up`)?") from None
    try:
        return status, json.loads(payload) if payload else {}
    except ValueError:
        return status, {"error": {"message": payload[:200].decode(errors="replace")}}
