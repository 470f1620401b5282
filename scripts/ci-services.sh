#!/usr/bin/env bash
# Services the test suite needs, for CI and for a developer's machine. SOURCE it (it exports):
#
#   source scripts/ci-services.sh      # then: make test
#
# * Debian packages: chromium (browser tests, driven by Playwright at /usr/bin/chromium — never
#   `playwright install`), postgresql (operational-store tests on a real server), default JDK
#   for the Spark engine suite when java is missing.
# * A private PostgreSQL cluster on its own port and socket folder (nothing shared with a system
#   server), started with pg_ctl as the unprivileged `postgres` user when run as root.
#   Exports P4DP_TEST_PG_URL for the tests.
set -euo pipefail

P4DP_PG_PORT="${P4DP_PG_PORT:-55432}"
P4DP_PG_DIR="${P4DP_PG_DIR:-/tmp/p4dp-test-pg}"

_p4dp_apt() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ci-services: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

_p4dp_pg() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi
  mkdir -p "$P4DP_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$P4DP_PG_DIR"
  if ! "${as[@]}" "$bin/pg_ctl" -D "$P4DP_PG_DIR/data" status >/dev/null 2>&1; then
    rm -rf "$P4DP_PG_DIR/data"
    "${as[@]}" "$bin/initdb" -D "$P4DP_PG_DIR/data" -U p4dp --auth=trust -E UTF8 \
      --locale=C.UTF-8 >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$P4DP_PG_DIR/data" -l "$P4DP_PG_DIR/server.log" -w \
      -o "-p $P4DP_PG_PORT -k $P4DP_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  export P4DP_TEST_PG_URL="postgresql://p4dp@127.0.0.1:${P4DP_PG_PORT}/postgres"
  echo "ci-services: PostgreSQL on 127.0.0.1:${P4DP_PG_PORT} (socket ${P4DP_PG_DIR})"
}

_p4dp_apt
_p4dp_pg
set +euo pipefail
