#!/usr/bin/env bash
# The run store's tests start a throwaway PostgreSQL server (tests/planner/conftest.py) from Debian's binaries in
# /usr/lib/postgresql/<version>/bin. Install Debian's `postgresql` package when they are missing; do nothing
# otherwise. The system cluster is never started (the tests run their own server in a temp dir, as user postgres).
set -euo pipefail
has_pg_ctl() {
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
if has_pg_ctl; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-postgres: no /usr/lib/postgresql/*/bin/pg_ctl and not root; install Debian's 'postgresql' package" >&2
  exit 1
fi
echo "ensure-postgres: installing Debian's postgresql package for the run store tests" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: let the package install without starting the system cluster
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap 'if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
if ! has_pg_ctl; then
  echo "ensure-postgres: installed 'postgresql' but found no /usr/lib/postgresql/*/bin/pg_ctl" >&2
  exit 1
fi
ls -d /usr/lib/postgresql/*/bin
