#!/usr/bin/env bash
# The stack's base image built from Debian's packages, for machines that cannot reach Docker Hub:
# `make base-image`, and `make up` when pulling debian:trixie-slim fails.
#
# debootstrap's minbase variant of the pinned suite, trimmed as Debian's own -slim images are (no
# documentation or manual pages, no apt lists), then `docker import`ed as BASE_TAG. Every image of
# the stack is built FROM it (ARG BASE_IMAGE). Built once: an existing BASE_TAG is kept (REBUILD=1
# makes it again). Needs root (debootstrap chroots) and a Docker engine.
set -euo pipefail

SUITE="${SUITE:-trixie}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
BASE_TAG="${BASE_TAG:-stedi-lakehouse/debian:$SUITE}"

say() { printf 'base-image: %s\n' "$*"; }
die() { printf 'base-image: error: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers: \`make docker-engine\` installs and starts one"
if [ -z "${REBUILD:-}" ] && docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  say "$BASE_TAG is built ($(docker image inspect --format '{{.Created}}' "$BASE_TAG"))"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "debootstrap needs root: sudo make base-image"
if ! command -v debootstrap >/dev/null; then
  say "installing Debian's debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

ROOT="$(mktemp -d /var/tmp/stedi-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
started=$(date +%s)
say "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
debootstrap --variant=minbase --components=main "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 \
  || { tail -20 "$ROOT.log" >&2; die "debootstrap failed: the log's end is above ($ROOT.log)"; }
rm -f "$ROOT.log"

# As Debian's -slim images: keep documentation and manual pages out of every later install too.
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
CLEAN
echo 'APT::Install-Recommends "false";' >"$ROOT/etc/apt/apt.conf.d/docker-no-recommends"
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
  "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/var/log/*.log "$ROOT"/tmp/* 2>/dev/null || true
: >"$ROOT/etc/machine-id"

say "importing it as $BASE_TAG"
tar --numeric-owner -C "$ROOT" -c . | docker import \
  --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
  --change "LABEL org.opencontainers.image.title=\"Debian $SUITE minbase (debootstrap)\"" \
  --change "LABEL org.opencontainers.image.base.name=\"debian:$SUITE-slim\"" \
  - "$BASE_TAG" >/dev/null
say "$BASE_TAG built in $(( $(date +%s) - started )) s, $(docker image inspect --format '{{.Size}}' "$BASE_TAG" | awk '{printf "%.0f MB", $1/1e6}')"
