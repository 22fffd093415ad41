# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): NATS with JetStream.

# ----------------------------------------------------------------------------------------------
# NATS with JetStream (file store under the data dir: streams survive a restart)
# ----------------------------------------------------------------------------------------------
NATS_DIR="$BROKERS_DIR/nats"
NATS_MARKER="nats-server -a 127.0.0.1 -p $NATS_PORT"
# Beside the plain server (the TLS section, ANYMQ_TLS=0 leaves them out), two servers of their own,
# since one nats-server takes either users or a token, not both:
# - TLS (the CA's server certificate; a client certificate is not asked for) with users and
#   passwords: the TLS user may do everything, anymq-noperm may publish and subscribe nothing;
# - a token server (plain TCP): `nats://<token>@host`.
# Each has its own JetStream store. Their configuration files are written at start (they hold the
# test password and token) into the data dir, which git ignores.
NATS_TLS_PORT="${ANYMQ_NATS_TLS_PORT:-4223}"
NATS_TOKEN_PORT="${ANYMQ_NATS_TOKEN_PORT:-4224}"
NATS_TOKEN="anymq-nats-T0ken-value"
NATS_TLS_MARKER="nats-server -c $NATS_DIR/tls.conf"
NATS_TOKEN_MARKER="nats-server -c $NATS_DIR/token.conf"

nats_bin_dir() { echo "$CACHE_DIR/nats-server-$NATS_VERSION/bin"; }
nats_server_command() { if [ "$NATS_VERSION" = debian ]; then echo nats-server; else echo "$(nats_bin_dir)/nats-server"; fi; }
# One store per version: a store written by a newer server is not promised to read in an older one.
nats_store() { # suffix (-tls, -token or nothing)
  local suffix="${1:-}"
  if [ "$NATS_VERSION" = debian ]; then echo "$NATS_DIR/store$suffix"; else echo "$NATS_DIR/store$suffix-$NATS_VERSION"; fi
}

# Builds nats-server $NATS_VERSION from its module on the Go module proxy into the cache.
nats_install() {
  local bin tmp
  bin="$(nats_bin_dir)"
  [ -x "$bin/nats-server" ] && return 0
  command -v go >/dev/null || { fail "building nats-server $NATS_VERSION needs Go (or ANYMQ_NATS_VERSION=debian for Debian's package)"; return 1; }
  say "nats: building nats-server $NATS_VERSION (github.com/nats-io/nats-server/v2, Go module proxy) into $bin"
  tmp="$(mktemp -d "$CACHE_DIR/.nats-server-$NATS_VERSION.XXXXXX")"
  # Outside any module, so no go.mod of the caller's is read or written.
  (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS=-mod=mod go install "github.com/nats-io/nats-server/v2@v$NATS_VERSION") >>"$INSTALL_LOG" 2>&1 ||
    { rm -rf "$tmp"; fail "go install nats-server@v$NATS_VERSION failed (see $INSTALL_LOG)"; return 1; }
  "$tmp/bin/nats-server" --version 2>/dev/null | grep -q "v$NATS_VERSION" ||
    { rm -rf "$tmp"; fail "the nats-server built is not $NATS_VERSION"; return 1; }
  rm -rf "$CACHE_DIR/nats-server-$NATS_VERSION"
  mkdir -p "$CACHE_DIR/nats-server-$NATS_VERSION"
  mv "$tmp/bin" "$bin"
  rm -rf "$tmp"
}

nats_logfiles() { echo "$NATS_DIR/nats.log" "$NATS_DIR/nats-tls.log" "$NATS_DIR/nats-token.log"; }
nats_ours() { pid_alive "$NATS_DIR/nats.pid" "$NATS_MARKER"; }
nats_pids() {
  if nats_ours; then cat "$NATS_DIR/nats.pid"; fi
  if pid_alive "$NATS_DIR/nats-tls.pid" "$NATS_TLS_MARKER"; then cat "$NATS_DIR/nats-tls.pid"; fi
  if pid_alive "$NATS_DIR/nats-token.pid" "$NATS_TOKEN_MARKER"; then cat "$NATS_DIR/nats-token.pid"; fi
}

# /healthz answers ok only once JetStream has recovered its streams; the auth servers say
# "Server is ready" in their log once theirs have (checked in the lines since their last start).
nats_ready() {
  curl -fsS -m 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" | grep -q '"ok"' || return 1
  tls_enabled || return 0
  local name
  for name in tls token; do
    # One awk over the file, no pipe: with pipefail an early-quitting reader fails on a long log (SIGPIPE).
    awk '/^==== /{ready=0} /Server is ready/{ready=1} END{exit !ready}' "$NATS_DIR/nats-$name.log" 2>/dev/null || return 1
  done
}

nats_write_auth_configs() {
  cat >"$NATS_DIR/tls.conf" <<CONF
listen: 127.0.0.1:$NATS_TLS_PORT
server_name: anymq-test-tls
jetstream { store_dir: "$(nats_store -tls)" }
tls {
  cert_file: "$TLS_DIR/server.pem"
  key_file: "$TLS_DIR/server.key"
  ca_file: "$TLS_DIR/ca.pem"
}
authorization {
  users: [
    { user: "$TLS_USER", password: "$TLS_PASSWORD" }
    { user: "$TLS_NOPERM_USER", password: "$TLS_PASSWORD", permissions: { publish: { deny: ">" }, subscribe: { deny: ">" } } }
  ]
}
CONF
  cat >"$NATS_DIR/token.conf" <<CONF
listen: 127.0.0.1:$NATS_TOKEN_PORT
server_name: anymq-test-token
jetstream { store_dir: "$(nats_store -token)" }
authorization { token: "$NATS_TOKEN" }
CONF
  chmod 600 "$NATS_DIR/tls.conf" "$NATS_DIR/token.conf"
}

nats_start() {
  local server
  server="$(nats_server_command)"
  command -v "$server" >/dev/null || fail "nats-server is not installed ($server)" || return 1
  mkdir -p "$(nats_store)"
  rm -f "$NATS_DIR/nats.pid"
  echo "==== $(date -Is) starting nats-server ====" >>"$NATS_DIR/nats.log"
  spawn "$NATS_DIR/nats.pid" "$NATS_DIR/nats.log" \
    "$server" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -js -sd "$(nats_store)" -n anymq-test || return 1
  if tls_enabled; then
    nats_write_auth_configs
    local name
    for name in tls token; do
      # The main server alone may have died (kill -9 in a test): a side server still running keeps its port.
      if [[ "$name" == tls ]] && pid_alive "$NATS_DIR/nats-tls.pid" "$NATS_TLS_MARKER"; then continue; fi
      if [[ "$name" == token ]] && pid_alive "$NATS_DIR/nats-token.pid" "$NATS_TOKEN_MARKER"; then continue; fi
      mkdir -p "$(nats_store "-$name")"
      rm -f "$NATS_DIR/nats-$name.pid"
      echo "==== $(date -Is) starting nats-server ($name) ====" >>"$NATS_DIR/nats-$name.log"
      spawn "$NATS_DIR/nats-$name.pid" "$NATS_DIR/nats-$name.log" "$server" -c "$NATS_DIR/$name.conf" || return 1
    done
  fi
  wait_ready nats_ours "NATS /healthz on http://127.0.0.1:$NATS_MONITOR_PORT (and the TLS and token servers on $NATS_TLS_PORT, $NATS_TOKEN_PORT)" nats_ready
}

# SIGTERM makes nats-server flush its store and exit (lame duck is SIGUSR2, not needed here).
# The three side by side: each flushes its own store.
nats_stop() {
  local stoppers=()
  stop_pidfile "$NATS_DIR/nats-token.pid" "$NATS_TOKEN_MARKER" 30 &
  stoppers+=($!)
  stop_pidfile "$NATS_DIR/nats-tls.pid" "$NATS_TLS_MARKER" 30 &
  stoppers+=($!)
  stop_pidfile "$NATS_DIR/nats.pid" "$NATS_MARKER" 30
  # Only these two: a bare `wait` would also wait for the brokers this script spawned.
  wait "${stoppers[@]}"
}

nats_env() { # prefix quote
  tls_enabled || return 0
  local prefix="$1" q="$2"
  echo "${prefix}ANYMQ_NATS_TLS_URL=${q}nats://$TLS_USER:$TLS_PASSWORD@localhost:$NATS_TLS_PORT?tls=true&ca=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_NATS_TOKEN_URL=${q}nats://$NATS_TOKEN@127.0.0.1:$NATS_TOKEN_PORT$q"
}
