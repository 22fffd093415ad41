# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): NATS with JetStream.

# ----------------------------------------------------------------------------------------------
# NATS with JetStream (file store under the data dir: streams survive a restart)
# ----------------------------------------------------------------------------------------------
NATS_DIR="$BROKERS_DIR/nats"
NATS_MARKER="nats-server -a 127.0.0.1 -p $NATS_PORT"

nats_logfiles() { echo "$NATS_DIR/nats.log"; }
nats_ours() { pid_alive "$NATS_DIR/nats.pid" "$NATS_MARKER"; }
nats_pids() { if nats_ours; then cat "$NATS_DIR/nats.pid"; fi; }

# /healthz answers ok only once JetStream has recovered its streams.
nats_ready() { curl -fsS -m 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" | grep -q '"ok"'; }

nats_start() {
  command -v nats-server >/dev/null || fail "nats-server is not installed" || return 1
  mkdir -p "$NATS_DIR/store"
  rm -f "$NATS_DIR/nats.pid"
  echo "==== $(date -Is) starting nats-server ====" >>"$NATS_DIR/nats.log"
  spawn "$NATS_DIR/nats.pid" "$NATS_DIR/nats.log" \
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -js -sd "$NATS_DIR/store" -n anymq-test || return 1
  wait_ready nats_ours "NATS /healthz on http://127.0.0.1:$NATS_MONITOR_PORT" nats_ready
}

# SIGTERM makes nats-server flush its store and exit (lame duck is SIGUSR2, not needed here).
nats_stop() { stop_pidfile "$NATS_DIR/nats.pid" "$NATS_MARKER" 30; }
