# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): the commands: up, down, restart, status, env, logs.

# ----------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------
cmd_up() {
  local brokers=() b t0 failed=() pkgs
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  take_lock
  t0=$(now)
  : >>"$INSTALL_LOG"
  pkgs=$(debian_packages_for "${brokers[@]}")
  if [ -n "$pkgs" ]; then
    local t1
    t1=$(now)
    # shellcheck disable=SC2086
    if [ -n "$(apt_missing $pkgs)" ]; then
      # shellcheck disable=SC2086
      apt_install $pkgs || {
        echo "brokers: Debian package install FAILED: $FAIL_REASON" >&2
        tail -n 40 "$INSTALL_LOG" >&2
        exit 1
      }
      echo "debian packages: installed in $(since "$t1")"
    fi
  fi
  tls_ensure_ca || { echo "brokers: TLS certificate authority FAILED: $FAIL_REASON" >&2; exit 1; }
  # The brokers start in parallel (installs included); each one's report is printed in order
  # once it is done. ANYMQ_BROKERS_PARALLEL=0 starts them one after the other.
  # 9>&-: the brokers must not inherit the lock's file descriptor (they would hold the lock).
  local out i pids=()
  out=$(mktemp -d)
  for i in "${!brokers[@]}"; do
    b="${brokers[$i]}"
    if [ "${ANYMQ_BROKERS_PARALLEL:-1}" = 0 ]; then
      (broker_up "$b" || { fail_broker "$b"; exit 1; }) 9>&- || failed+=("$b")
    else
      (broker_up "$b" || { fail_broker "$b"; exit 1; }) >"$out/$b.log" 2>&1 9>&- &
      pids[i]=$!
    fi
  done
  for i in "${!pids[@]}"; do
    b="${brokers[$i]}"
    if ! wait "${pids[$i]}"; then failed+=("$b"); fi
    cat "$out/$b.log"
  done
  rm -rf "$out"
  echo "up: total $(since "$t0")"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "brokers: FAILED: ${failed[*]}" >&2
    exit 1
  fi
}

cmd_down() {
  local brokers=() b failed=() pids left=""
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  # `down` without names also stops the opt-in brokers that run.
  if [ $# -eq 0 ]; then
    for b in "${OPTIONAL_BROKERS[@]}"; do "${b}_ours" && brokers+=("$b"); done
  fi
  take_lock
  for b in "${brokers[@]}"; do
    if ! broker_down "$b" 9>&-; then
      fail_broker "$b"
      failed+=("$b")
    fi
  done
  [[ " ${brokers[*]} " == *" rabbitmq "* ]] && epmd_cleanup
  for b in "${brokers[@]}"; do
    pids=$("${b}_pids" | tr '\n' ' ')
    [ -z "${pids// /}" ] || left+=" $b(pids $pids)"
  done
  if [ -n "$left" ]; then
    echo "brokers: still running after down:$left" >&2
    exit 1
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo "brokers: FAILED to stop: ${failed[*]}" >&2
    exit 1
  fi
}

# Stop and start again, keeping the data; returns once the broker is ready again.
# --kill: SIGKILL the broker's process instead of stopping it politely (a crash, not a shutdown).
cmd_restart() {
  local brokers=() b t0 failed=() stop=stop
  if [ "${1:-}" = --kill ]; then
    stop=kill
    shift
  fi
  [ $# -gt 0 ] || { say "usage: brokers.sh restart [--kill] <broker...>"; exit 2; }
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  take_lock
  for b in "${brokers[@]}"; do
    t0=$(now)
    FAIL_REASON="" FAIL_LOGS=""
    if ! "${b}_ours" && port_open "$(broker_port "$b")"; then
      fail "the $b on port $(broker_port "$b") was not started from $BROKERS_DIR: cannot restart it"
      FAIL_LOGS=none
      fail_broker "$b"
      failed+=("$b")
      continue
    fi
    if [ "$b" = sqs ]; then say "note: moto keeps its state in memory; after a restart SQS/SNS start empty"; fi
    if [ "$b" = pubsub ]; then say "note: pstest keeps its state in memory; after a restart Pub/Sub starts empty"; fi
    if { { "broker_$stop" "$b" || fail "could not stop $b"; } && broker_up "$b" >/dev/null; } 9>&-; then
      echo "$b: restarted in $(since "$t0")"
    else
      fail_broker "$b"
      failed+=("$b")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then exit 1; fi
}

cmd_status() {
  local brokers=() b bad=0 pids how
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  for b in "${brokers[@]}"; do
    pids=$("${b}_pids" | sed -n 1p) # sed reads to the end: head would SIGPIPE a second pid (sqs: moto + moto-tls) and end status with 141
    if "${b}_ready" 2>/dev/null; then
      how="pid ${pids:-?}"
      [ -n "$pids" ] || how="not started from $BROKERS_DIR"
      printf '%-9s healthy   %-52s %s\n' "$b" "$(broker_url "$b")" "$how"
    else
      printf '%-9s DOWN      %-52s %s\n' "$b" "$(broker_url "$b")" "${pids:+process $pids alive but not answering}"
      bad=1
    fi
  done
  return $bad
}

# Default: `export NAME='value'` lines, so `eval "$(scripts/brokers.sh env)"` exports them.
# --plain: `NAME=value` lines (dotenv files, $GITHUB_ENV, `set -a; . file`).
cmd_env() {
  local prefix="export " q="'"
  case "${1:-}" in
  --plain | -p) prefix="" q="" ;;
  --export | -e | "") ;;
  *)
    say "usage: brokers.sh env [--plain]"
    exit 2
    ;;
  esac
  local b name
  for b in "${ALL_BROKERS[@]}" "${OPTIONAL_BROKERS[@]}"; do
    # An opt-in broker's URL only while it runs: test files skip it exactly when it is not there.
    if [[ " ${OPTIONAL_BROKERS[*]} " == *" $b "* ]] && ! "${b}_ours"; then continue; fi
    name="ANYMQ_$(echo "$b" | tr '[:lower:]' '[:upper:]')_URL"
    echo "$prefix$name=$q$(broker_url "$b")$q"
  done
  tls_env "$prefix" "$q"
  nats_env "$prefix" "$q"
  echo "${prefix}ANYMQ_BROKERS_SCRIPT=$q$SCRIPT_PATH$q"
  echo "${prefix}ANYMQ_AWS_CLI=$q$VENV_DIR/bin/aws$q"
  # Kinesis and DynamoDB (its lease tables) are served by the same moto server as SQS.
  echo "${prefix}ANYMQ_KINESIS_URL=${q}kinesis://us-east-1?endpoint=http://127.0.0.1:$MOTO_PORT$q"
  # The moto that checks signatures and policies; its users' keys are in ANYMQ_AWS_AUTH_USERS.
  echo "${prefix}ANYMQ_SQS_AUTH_URL=${q}sqs://us-east-1?endpoint=http://127.0.0.1:$SQS_AUTH_PORT$q"
  echo "${prefix}ANYMQ_KINESIS_AUTH_URL=${q}kinesis://us-east-1?endpoint=http://127.0.0.1:$SQS_AUTH_PORT$q"
  echo "${prefix}ANYMQ_AWS_AUTH_USERS=$q$MOTO_AUTH_USERS$q"
  echo "${prefix}AWS_ACCESS_KEY_ID=${q}test$q"
  echo "${prefix}AWS_SECRET_ACCESS_KEY=${q}test$q"
  echo "${prefix}AWS_REGION=${q}us-east-1$q"
  echo "${prefix}AWS_DEFAULT_REGION=${q}us-east-1$q"
}

cmd_logs() {
  local brokers=() b f
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  for b in "${brokers[@]}"; do
    for f in $("${b}_logfiles"); do
      [ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
    done
  done
}
