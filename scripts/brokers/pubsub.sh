# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): Google Cloud Pub/Sub fake (pstest).

# ----------------------------------------------------------------------------------------------
# Google Cloud Pub/Sub: pstest (the Go client's fake server) wrapped by scripts/pubsub-emulator,
# built once per source version into the cache. State lives in memory: a restart loses it.
# ----------------------------------------------------------------------------------------------
PUBSUB_DIR="$BROKERS_DIR/pubsub"
PUBSUB_SRC="$SCRIPT_DIR/pubsub-emulator"
PUBSUB_MARKER="-port $PUBSUB_PORT"

pubsub_binary() {
  local digest
  digest=$(cat "$PUBSUB_SRC/go.mod" "$PUBSUB_SRC/go.sum" "$PUBSUB_SRC/main.go" | sha256sum | cut -c1-12)
  echo "$CACHE_DIR/pubsub-emulator/pubsub-emulator-$digest"
}
pubsub_logfiles() { echo "$PUBSUB_DIR/pubsub.log"; }
pubsub_ours() { pid_alive "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_MARKER"; }
pubsub_pids() { if pubsub_ours; then cat "$PUBSUB_DIR/pubsub.pid"; fi; }
# pstest listens only once it is fully set up, so an open port is a ready server.
pubsub_ready() { port_open "$PUBSUB_PORT"; }

pubsub_install() {
  local binary
  binary=$(pubsub_binary)
  [ -x "$binary" ] && return 0
  command -v go >/dev/null || fail "pubsub needs Go (the version in $PUBSUB_SRC/go.mod or newer: https://go.dev/dl) to build pstest" || return 1
  say "pubsub: building $binary (Go module proxy: cloud.google.com/go/pubsub/v2/pstest)"
  mkdir -p "$(dirname "$binary")"
  (cd "$PUBSUB_SRC" && go build -trimpath -o "$binary.tmp" .) >>"$INSTALL_LOG" 2>&1 || fail "go build in $PUBSUB_SRC failed" || return 1
  mv "$binary.tmp" "$binary"
}

pubsub_start() {
  mkdir -p "$PUBSUB_DIR"
  rm -f "$PUBSUB_DIR/pubsub.pid"
  echo "==== $(date -Is) starting pstest ====" >>"$PUBSUB_DIR/pubsub.log"
  spawn "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_DIR/pubsub.log" "$(pubsub_binary)" -port "$PUBSUB_PORT" || return 1
  wait_ready pubsub_ours "pstest on 127.0.0.1:$PUBSUB_PORT" pubsub_ready
}

pubsub_stop() { stop_pidfile "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_MARKER" 15; }
