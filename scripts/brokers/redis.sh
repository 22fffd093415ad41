# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): Redis.

# ----------------------------------------------------------------------------------------------
# Redis (append-only file, fsync on every write: nothing acknowledged is lost on restart)
# ----------------------------------------------------------------------------------------------
REDIS_DIR="$BROKERS_DIR/redis"

redis_logfiles() { echo "$REDIS_DIR/redis.log"; }
REDIS_MARKER="redis-server 127.0.0.1:$REDIS_PORT" # the process title redis sets
redis_ours() { pid_alive "$REDIS_DIR/redis.pid" "$REDIS_MARKER"; }
redis_pids() { if redis_ours; then cat "$REDIS_DIR/redis.pid"; fi; }

redis_ready() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

redis_start() {
  mkdir -p "$REDIS_DIR/data"
  rm -f "$REDIS_DIR/redis.pid"
  local tls_args
  mapfile -t tls_args < <(redis_tls_args)
  redis-server "${tls_args[@]}" --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --dir "$REDIS_DIR/data" --appendonly yes --appendfsync always --save "" \
    >>"$REDIS_DIR/redis.log" 2>&1 || fail "redis-server failed to start" || return 1
  local i
  for ((i = 0; i < 40; i++)); do
    [ -s "$REDIS_DIR/redis.pid" ] && break
    sleep 0.1
  done
  wait_ready redis_ours "redis-cli PING on 127.0.0.1:$REDIS_PORT" redis_ready
}

# SIGTERM makes redis fsync the AOF and exit cleanly.
redis_stop() { stop_pidfile "$REDIS_DIR/redis.pid" "$REDIS_MARKER" 30; }
