#!/usr/bin/env bash
# Re-vendor the Data Docs assets listed in stedi/gates/datadocs_assets/MANIFEST.json.
#
#   scripts/vendor_datadocs_assets.sh           fetch every npm package with `npm pack`, copy the listed files
#                                               into stedi/gates/datadocs_assets/vendor/<dir>/ and verify them against
#                                               the pinned sha256 (and SRI hash, tarball integrity, licence)
#   scripts/vendor_datadocs_assets.sh --check   verify the files already on disk, no network
#   scripts/vendor_datadocs_assets.sh --record  fetch, copy and write the new hashes into the manifest
#                                               (only after changing a version in the manifest on purpose)
#
# Needs npm (for fetch and --record), python3 and tar. Exits non-zero on any mismatch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-fetch}"
case "$MODE" in
  fetch|--fetch) MODE=fetch ;;
  --check) MODE=check ;;
  --record) MODE=record ;;
  *) echo "usage: $0 [--check|--record]" >&2; exit 2 ;;
esac
if [[ "$MODE" != check ]] && ! command -v npm >/dev/null; then
  echo "npm is needed to fetch the assets (Debian: apt-get install -y npm)" >&2
  exit 1
fi

exec python3 - "$ROOT" "$MODE" <<'PY'
import base64, hashlib, json, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

root, mode = Path(sys.argv[1]), sys.argv[2]
assets = root / "stedi" / "gates" / "datadocs_assets"
manifest_path = assets / "MANIFEST.json"
manifest = json.loads(manifest_path.read_text())
errors: list[str] = []


def digest(path: Path, algo: str) -> bytes:
    return hashlib.new(algo, path.read_bytes()).digest()


def sha256(path: Path) -> str:
    return digest(path, "sha256").hex()


tmp = Path(tempfile.mkdtemp(prefix="datadocs-vendor-"))
try:
    for pkg in manifest["packages"]:
        dest = assets / "vendor" / pkg["dir"]
        spec = f'{pkg["npm"]}@{pkg["version"]}' if pkg["npm"] else None
        if spec and mode != "check":
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", str(tmp)],
                check=True, capture_output=True, text=True, cwd=tmp,
            )
            info = json.loads(out.stdout)[0]
            if mode == "record":
                pkg["tarball_integrity"] = info["integrity"]
            elif info["integrity"] != pkg.get("tarball_integrity"):
                errors.append(f"{spec}: registry tarball integrity {info['integrity']} != pinned {pkg.get('tarball_integrity')}")
            unpacked = tmp / pkg["dir"]
            with tarfile.open(tmp / info["filename"]) as tar:
                tar.extractall(unpacked, filter="data")
            meta = json.loads((unpacked / "package" / "package.json").read_text())
            if meta.get("license") != pkg["license"]:
                errors.append(f"{spec}: package.json licence {meta.get('license')!r} != manifest {pkg['license']!r}")
            for entry in pkg["files"]:
                if "local" in entry:
                    continue  # written for this project (e.g. a LICENSE the package does not ship): kept as is
                src = unpacked / "package" / entry["path"]
                if not src.is_file():
                    errors.append(f"{spec}: {entry['path']} is not in the package")
                    continue
                target = dest / entry["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
        for entry in pkg["files"]:
            target = dest / entry["path"]
            if not target.is_file():
                errors.append(f"missing {target.relative_to(root)}")
                continue
            actual = sha256(target)
            if mode == "record":
                entry["sha256"] = actual
            elif actual != entry.get("sha256"):
                errors.append(f"{target.relative_to(root)}: sha256 {actual} != pinned {entry.get('sha256')}")
            if "sri" in entry:
                algo, _, want = entry["sri"].partition("-")
                if base64.b64encode(digest(target, algo)).decode() != want:
                    errors.append(f"{target.relative_to(root)}: does not match the template's SRI hash {entry['sri']}")
        listed = {dest / e["path"] for e in pkg["files"]}
        for extra in sorted(p for p in dest.rglob("*") if p.is_file() and p not in listed):
            errors.append(f"{extra.relative_to(root)} is not listed in the manifest")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if errors:
    print("Data Docs assets do NOT match the manifest:", *errors, sep="\n  ", file=sys.stderr)
    sys.exit(1)
if mode == "record":
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"recorded the hashes in {manifest_path.relative_to(root)}")
total = sum(p.stat().st_size for p in (assets / "vendor").rglob("*") if p.is_file())
count = sum(len(p["files"]) for p in manifest["packages"])
print(f"{count} Data Docs asset files verified ({total / 1e6:.1f} MB) [{mode}]")
PY
