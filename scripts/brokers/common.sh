# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): small helpers: messages, failures, ports, pid files, spawning, waiting until ready.

# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
say() { printf '%s\n' "brokers: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
is_root() { [ "$(id -u)" = 0 ]; }

# Last error message set by a failing step; printed by fail_broker. FAIL_LOGS=install|none
# says which log tail is worth printing (default: the broker's own logs).
FAIL_REASON=""
FAIL_LOGS=""
fail() {
  FAIL_REASON="$*"
  return 1
}

# Print a loud failure report for one broker: reason + tail of its log(s).
fail_broker() { # broker
  local b="$1" f files
  case "$FAIL_LOGS" in
  install) files="$INSTALL_LOG" ;;
  none) files="" ;;
  *) files="$("${b}_logfiles")" ;;
  esac
  {
    echo "=================================================================="
    echo "brokers: $b FAILED: ${FAIL_REASON:-unknown error}"
    for f in $files; do
      [ -s "$f" ] || continue
      echo "---- last 40 lines of $f ----"
      tail -n 40 "$f"
    done
    echo "=================================================================="
  } >&2
}

# Is something accepting TCP connections on 127.0.0.1:PORT?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_owner() { # port -> "process name (pid)" or empty
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
}

# Is the process in PIDFILE alive AND still the one we started? Its command line must contain
# MARKER: after a reboot or a new session a stale pid file may name some unrelated process.
pid_alive() { # pidfile marker
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -n 1 "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Send SIGTERM to the process in PIDFILE, wait up to SECS for it to exit, then SIGKILL.
stop_pidfile() { # pidfile marker secs
  local pidfile="$1" marker="$2" secs="${3:-30}" pid i
  pid_alive "$pidfile" "$marker" || { rm -f "$pidfile"; return 0; }
  pid="$(head -n 1 "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.25
  done
  say "pid $pid did not stop within ${secs}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$pidfile"
}

# Start a command in the background, detached from this shell's session, writing its pid.
spawn() { # pidfile logfile cmd...
  local pidfile="$1" logfile="$2"
  shift 2
  # setsid: the broker outlives this script and is not hit by signals sent to our process group.
  # The inner shell writes its own pid, then exec's the command, so the pid stays the broker's.
  nohup setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$pidfile" ] && return 0
    sleep 0.05
  done
  fail "could not start: $*"
}

# Poll CHECK (a function name + args) until it succeeds, ALIVE (a function, or "") says the
# broker's process is gone, or the timeout. Gone means gone twice, 0.5 s apart: ALIVE reads
# /proc/<pid>/cmdline, which is empty while the spawned shell exec's the broker (a CI run's pstest,
# quick to start, was called dead that way at its first poll, with nothing in its log).
wait_ready() { # alive what check...
  local alive="$1" what="$2" missed=0
  shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$alive" ] && ! "$alive"; then
      missed=$((missed + 1))
      if ((missed >= 2)); then
        fail "$what: process exited during start-up"
        return 1
      fi
    else
      missed=0
    fi
    sleep 0.5
  done
  fail "$what: not ready after ${READY_TIMEOUT}s"
}
