#!/usr/bin/env bash
# Runs a command with throw-away servers on 127.0.0.1, each on a free port with its data in a temp dir:
# a PostgreSQL cluster and a Redis server. Exports IDENTITY_TEST_POSTGRES_URL (role `identityd`: LOGIN
# CREATEDB, not a superuser, so row-level security applies to it), IDENTITY_TEST_REDIS_URL and what the
# tests need to stop and start them, and stops everything when the command ends. (nginx, for the
# multi-node test, is started by that test itself from deploy/nginx/identityd.conf.)
# Usage: scripts/with-services.sh COMMAND [ARGS...]
set -euo pipefail

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run_as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "with-services: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

REDIS_SERVER=$(command -v redis-server || true)
if [ -z "$REDIS_SERVER" ]; then
  echo "with-services: redis-server not found (apt-get install redis-server)" >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/identityd-services.XXXXXX)
chmod 755 "$workdir"
[ "$(id -u)" -eq 0 ] && chown postgres "$workdir"
pg_port=$(free_port)
redis_port=$(free_port)

cleanup() {
  # Servers a killed test run left behind carry IDENTITYD_TEST_RUN=$workdir in their environment.
  for environ in /proc/[0-9]*/environ; do
    if tr '\0' '\n' 2>/dev/null < "$environ" | grep -qx "IDENTITYD_TEST_RUN=$workdir"; then
      pid=${environ#/proc/}; pid=${pid%/environ}
      [ "$pid" != "$$" ] && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  run_as_postgres "$PGBIN/pg_ctl" -D "$workdir/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$workdir/redis.pid" ] && kill "$(cat "$workdir/redis.pid")" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

run_as_postgres "$PGBIN/initdb" -D "$workdir/pg" -U postgres -A trust --no-sync -E UTF8 >/dev/null
# Settings live in the cluster's config so that a test can stop and start it (pg_ctl start) unchanged.
cat >> "$workdir/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$workdir'
max_connections = 600
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
run_as_postgres "$PGBIN/pg_ctl" -D "$workdir/pg" -l "$workdir/pg.log" -w -t 60 start >/dev/null
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE identityd LOGIN CREATEDB PASSWORD 'identityd'" \
  -c "CREATE DATABASE identityd OWNER identityd" >/dev/null
# Redis without persistence: a restart loses everything, which is what the tests want to survive.
cat > "$workdir/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
save ""
appendonly no
daemonize yes
dir $workdir
pidfile $workdir/redis.pid
logfile $workdir/redis.log
CONF
"$REDIS_SERVER" "$workdir/redis.conf"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export IDENTITY_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
export IDENTITY_TEST_REDIS_CONF="$workdir/redis.conf"
export IDENTITY_TEST_REDIS_PORT="$redis_port"
export IDENTITY_TEST_WORKDIR="$workdir"
export IDENTITYD_TEST_RUN="$workdir"
export IDENTITY_TEST_POSTGRES_URL="postgres://identityd:identityd@127.0.0.1:$pg_port/identityd"
export IDENTITY_TEST_POSTGRES_BIN="$PGBIN"
export IDENTITY_TEST_POSTGRES_DATA="$workdir/pg"
echo "with-services: PostgreSQL on 127.0.0.1:$pg_port"

set +e
"$@"
status=$?
set -e
exit $status
