#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on 127.0.0.1, exported to the command as
# POSTCART_TEST_PG_URL. The cluster lives in a temp dir and is removed afterwards.
# Without PostgreSQL binaries the command runs without the URL (postgres tests then skip,
# or fail under CI=true).
set -uo pipefail

initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
if [ -z "$initdb" ]; then
  echo "with-postgres: no PostgreSQL server binaries; running without POSTCART_TEST_PG_URL" >&2
  exec "$@"
fi
bindir=$(dirname "$initdb")
workdir=$(mktemp -d /tmp/postcart-pg.XXXXXX)
chmod 755 "$workdir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
runas=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root; use the postgres system user the package creates.
  chown postgres "$workdir"
  runas=(runuser -u postgres --)
fi
"${runas[@]}" "$bindir/initdb" -D "$workdir/data" -U postcart --auth=trust -E UTF8 >/dev/null
"${runas[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $workdir -c fsync=off" start >/dev/null
cleanup() {
  "${runas[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$workdir"
}
trap cleanup EXIT
"${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postcart postcart_test
export POSTCART_TEST_PG_URL="postgresql://postcart@127.0.0.1:$port/postcart_test"
"$@"
