# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): PostgreSQL.

# ----------------------------------------------------------------------------------------------
# PostgreSQL: a cluster of the project's own (not the system's `main` cluster)
# ----------------------------------------------------------------------------------------------
PG_BIN=""
PG_DIR="$BROKERS_DIR/postgres"

pg_find_bin() {
  [ -n "$PG_BIN" ] && return 0
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || fail "PostgreSQL server binaries not found under /usr/lib/postgresql" || return 1
  PG_BIN="$d"
}

# postgres refuses to run as root: as root, run it as the `postgres` user.
pg_as() { # cmd args...
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data dir must be reachable by the postgres user and the socket path short (<108 bytes);
# if the checkout is somewhere else (e.g. under /root), keep the cluster in /var/tmp instead.
pg_choose_dir() {
  local alt
  alt="/var/tmp/anymq-postgres-$(printf '%s' "$BROKERS_DIR" | md5sum | cut -c1-10)"
  if [ -d "$alt/data" ]; then
    PG_DIR="$alt"
    return 0
  fi
  if [ -d "$PG_DIR/data" ]; then return 0; fi
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres: "$PG_DIR"; fi
  if [ ${#PG_DIR} -gt 80 ] || ! pg_as test -w "$PG_DIR" 2>/dev/null; then
    rmdir "$PG_DIR" 2>/dev/null || true
    PG_DIR="$alt"
    mkdir -p "$PG_DIR"
    if is_root; then chown postgres: "$PG_DIR"; fi
    mkdir -p "$BROKERS_DIR"
    echo "$PG_DIR" >"$BROKERS_DIR/postgres.location"
  fi
}
# Where a previous run put it (for status/down without initialising anything).
if [ -s "$BROKERS_DIR/postgres.location" ]; then PG_DIR="$(cat "$BROKERS_DIR/postgres.location")"; fi

postgres_logfiles() { echo "$PG_DIR/postgres.log"; }
postgres_ours() { pid_alive "$PG_DIR/data/postmaster.pid" "$PG_DIR/data"; }
postgres_pids() {
  postgres_ours || return 0
  local pm
  pm=$(head -1 "$PG_DIR/data/postmaster.pid")
  echo "$pm"
  pgrep -P "$pm" 2>/dev/null || true
}

postgres_ready() {
  pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -d anymq -U anymq || return 1
  [ "$(PGPASSWORD=anymq PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p "$POSTGRES_PORT" -U anymq -d anymq -Atqc 'select 1' 2>/dev/null)" = "1" ]
}

pg_admin() { # sql
  pg_as "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$PG_DIR/run" -p "$POSTGRES_PORT" -U postgres -d postgres -Atqc "$1"
}

postgres_init() {
  [ -f "$PG_DIR/data/PG_VERSION" ] && return 0
  say "postgres: initdb $PG_DIR/data"
  rm -rf "$PG_DIR/data"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_DIR/postgres.log" 2>&1 ||
    fail "initdb failed" || return 1
  cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# added by scripts/brokers.sh
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
EOF
}

postgres_start() {
  pg_find_bin || return 1
  pg_choose_dir
  mkdir -p "$PG_DIR/run"
  touch "$PG_DIR/postgres.log"
  if is_root; then chown postgres: "$PG_DIR" "$PG_DIR/run" "$PG_DIR/postgres.log"; fi
  postgres_init || return 1
  postgres_tls_files || return 1
  # The port on every start: a data dir first made with another ANYMQ_POSTGRES_PORT must follow this one.
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t "$READY_TIMEOUT" start -o "-p $POSTGRES_PORT $(postgres_tls_options)" \
    >>"$PG_DIR/postgres.log" 2>&1 || fail "pg_ctl start failed" || return 1
  # role + database, idempotently
  if [ "$(pg_admin "select 1 from pg_roles where rolname = 'anymq'")" != "1" ]; then
    pg_admin "create role anymq login password 'anymq'" >>"$PG_DIR/postgres.log" 2>&1 || fail "create role anymq failed" || return 1
  fi
  if [ "$(pg_admin "select 1 from pg_database where datname = 'anymq'")" != "1" ]; then
    pg_admin "create database anymq owner anymq" >>"$PG_DIR/postgres.log" 2>&1 || fail "create database anymq failed" || return 1
  fi
  wait_ready "" "pg_isready + select 1 as anymq on 127.0.0.1:$POSTGRES_PORT" postgres_ready
}

postgres_stop() {
  postgres_ours || return 0
  pg_find_bin || return 1
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >>"$PG_DIR/postgres.log" 2>&1 ||
    fail "pg_ctl stop failed"
}
