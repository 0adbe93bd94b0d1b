#!/usr/bin/env bash
# Install and start a Docker engine and the Compose v2 plugin on Debian, as root: `make docker-engine`.
#
# Debian's docker.io gives the engine (dockerd) and a CLI. The Compose v2 plugin is not packaged in
# bookworm (only the old docker-compose 1.29), so it is built from the Go module proxy at the pinned
# COMPOSE_VERSION into the plugin directory Docker's CLI searches. No systemd here: dockerd is
# started in the background with its log in /var/log/stedi-dockerd.log. Every step is skipped when
# what it makes is already there, so a second run only checks.
set -euo pipefail

COMPOSE_VERSION="${COMPOSE_VERSION:-v5.6.0}"
PLUGIN_DIR="${PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/stedi/compose-$COMPOSE_VERSION"
LOG=/var/log/stedi-dockerd.log

say() { printf 'docker-engine: %s\n' "$*"; }
die() { printf 'docker-engine: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages and starts dockerd): sudo make docker-engine"
command -v apt-get >/dev/null || die "this installer is for Debian (apt-get); elsewhere install Docker Engine and the Compose v2 plugin as your system documents"

if ! command -v dockerd >/dev/null; then
  say "installing Debian's docker.io (the engine and its CLI)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
say "engine: $(dockerd --version)"

compose_ok() { docker compose version >/dev/null 2>&1; }
if ! compose_ok; then
  command -v go >/dev/null || { say "installing Go (to build the Compose plugin)"; apt-get install -y -qq golang-go >/dev/null; }
  say "building the Compose plugin $COMPOSE_VERSION from the Go module proxy (about 3 min of CPU, once; cached in $CACHE)"
  mkdir -p "$CACHE"
  if [ ! -x "$CACHE/docker-compose" ]; then
    (
      cd "$CACHE"
      [ -f go.mod ] || go mod init stedi.local/compose-build >/dev/null 2>&1
      # `go install module@version` refuses: compose's go.mod has exclude directives.
      go get "github.com/docker/compose/v5/cmd@$COMPOSE_VERSION"
      go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" \
        -o docker-compose.tmp github.com/docker/compose/v5/cmd
      mv docker-compose.tmp docker-compose
    )
  fi
  install -D -m 0755 "$CACHE/docker-compose" "$PLUGIN_DIR/docker-compose"
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $LOG)"
  # setsid: the daemon outlives this shell and the make that ran it.
  setsid dockerd >>"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not answer within 60 s: see $LOG"
fi
say "ready: engine $(docker info --format '{{.ServerVersion}}'), $(docker compose version)"
