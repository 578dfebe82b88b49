# Sourced by .ci/run: a real Postgres server and a PgBouncer in transaction
# pooling mode in front of it, both on free ports in a temporary directory,
# stopped on exit. Sets PG_URL (direct) and BOUNCER_URL.

# Debian's packages, when this machine lacks them.
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v pgbouncer >/dev/null || need+=(pgbouncer)
if ((${#need[@]})); then
  echo "apt-get install -y ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# Postgres and PgBouncer refuse to run as root: as root, run them as postgres.
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PG_DIR=$(mktemp -d /tmp/slotsync-ci-pg.XXXXXX)
chmod 755 "$PG_DIR"
[[ $(id -u) == 0 ]] && chown postgres: "$PG_DIR"
PG_PORT=$(free_port)
BOUNCER_PORT=$(free_port)

stop_real_postgres() {
  [[ -f "$PG_DIR/pgbouncer.pid" ]] && kill "$(cat "$PG_DIR/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_real_postgres EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
# fsync off: a throw-away test server, and 2 shared cores.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w start \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=off" >/dev/null

cat >"$PG_DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PG_DIR/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits
logfile = $PG_DIR/pgbouncer.log
pidfile = $PG_DIR/pgbouncer.pid
INI
echo '"postgres" ""' >"$PG_DIR/userlist.txt"
[[ $(id -u) == 0 ]] && chown postgres: "$PG_DIR"/pgbouncer.ini "$PG_DIR"/userlist.txt
as_pg pgbouncer -d -q "$PG_DIR/pgbouncer.ini"

PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
BOUNCER_URL="postgresql://postgres@127.0.0.1:$BOUNCER_PORT/postgres"
echo "Postgres $("$PG_BIN/postgres" --version | awk '{print $3}') at $PG_URL; $(pgbouncer --version | head -1) (transaction pooling) at $BOUNCER_URL"
