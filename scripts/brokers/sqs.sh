# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): SQS + SNS on moto server.

# ----------------------------------------------------------------------------------------------
# SQS + SNS (moto server). State is in memory: a restart starts empty.
# ----------------------------------------------------------------------------------------------
MOTO_DIR="$BROKERS_DIR/moto"
# One venv per set of pins, named by their hash: changing the pins builds a new venv beside the old
# one instead of replacing it under a moto server another checkout is running from.
VENV_DIR="$CACHE_DIR/venv-$(printf '%s\n' "${PY_REQUIREMENTS[@]}" | sha256sum | cut -c1-12)"

sqs_logfiles() { echo "$MOTO_DIR/moto.log" "$MOTO_DIR/moto-tls.log" "$MOTO_DIR/moto-auth.log"; }
MOTO_MARKER="moto_server -H 127.0.0.1 -p $MOTO_PORT"
# A second moto over HTTPS with the CA's server certificate (its own state: a separate account, in effect).
MOTO_TLS_MARKER="moto_server -H 127.0.0.1 -p $SQS_TLS_PORT"
# A third moto that checks what AWS checks: the request's signature against IAM's access keys, and
# the user's policies. Two users are made before the checks are switched on (see sqs_auth_seed).
MOTO_AUTH_MARKER="moto_server -H 127.0.0.1 -p $SQS_AUTH_PORT"
MOTO_AUTH_USERS="$MOTO_DIR/auth-users.json"
sqs_ours() { pid_alive "$MOTO_DIR/moto.pid" "$MOTO_MARKER"; }
sqs_tls_ours() { pid_alive "$MOTO_DIR/moto-tls.pid" "$MOTO_TLS_MARKER"; }
sqs_auth_ours() { pid_alive "$MOTO_DIR/moto-auth.pid" "$MOTO_AUTH_MARKER"; }
sqs_pids() {
  if sqs_ours; then cat "$MOTO_DIR/moto.pid"; fi
  if sqs_tls_ours; then cat "$MOTO_DIR/moto-tls.pid"; fi
  if sqs_auth_ours; then cat "$MOTO_DIR/moto-auth.pid"; fi
}

sqs_install() {
  local want
  want="${PY_REQUIREMENTS[*]}"
  if [ -x "$VENV_DIR/bin/moto_server" ] && [ "$(cat "$VENV_DIR/.anymq-requirements" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "sqs: installing $want into $VENV_DIR (PyPI)"
  mkdir -p "$CACHE_DIR"
  rm -rf "$VENV_DIR" # a half-built venv of an interrupted install (this path holds only these pins)
  python3 -m venv "$VENV_DIR" >>"$INSTALL_LOG" 2>&1 || fail "python3 -m venv $VENV_DIR failed" || return 1
  # --no-compile: byte-compiling botocore's thousands of files is most of the install time;
  # Python compiles what it imports on first use instead.
  "$VENV_DIR/bin/pip" install -q --no-compile --disable-pip-version-check "${PY_REQUIREMENTS[@]}" >>"$INSTALL_LOG" 2>&1 ||
    fail "pip install ${PY_REQUIREMENTS[*]} failed" || return 1
  echo "$want" >"$VENV_DIR/.anymq-requirements"
}

# A signed-looking header is how moto routes a request to a service; the signature is not checked.
moto_call() { # service target-or-empty data
  local svc="$1" target="$2" data="$3"
  local auth="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/$svc/aws4_request, SignedHeaders=host, Signature=0"
  if [ -n "$target" ]; then
    curl -fsS -m 5 -H "Authorization: $auth" -H 'Content-Type: application/x-amz-json-1.0' \
      -H "X-Amz-Target: $target" -d "$data" "http://127.0.0.1:$MOTO_PORT/"
  else
    curl -fsS -m 5 -H "Authorization: $auth" -d "$data" "http://127.0.0.1:$MOTO_PORT/"
  fi
}

# SQS ListQueues (JSON protocol) and SNS ListTopics (query protocol) both answer.
sqs_ready() {
  moto_call sqs AmazonSQS.ListQueues '{}' | grep -q '^{' &&
    moto_call sns "" 'Action=ListTopics&Version=2010-03-31' | grep -q '<ListTopicsResponse' &&
    { ! tls_enabled || sqs_tls_ready; } &&
    sqs_auth_ready
}

# An IAM call to the checking moto, made while its checks are still off.
moto_auth_iam() { # query
  curl -fsS -m 5 -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' \
    -d "$1&Version=2010-05-08" "http://127.0.0.1:$SQS_AUTH_PORT/"
}

# The users file exists once the checking moto has its users and checks every request.
sqs_auth_ready() {
  [ -s "$MOTO_AUTH_USERS" ] && return 0
  moto_auth_iam 'Action=ListUsers' | grep -q '<ListUsersResponse' || return 1
  sqs_auth_seed
}

# anymq-allowed may do anything; anymq-sqs-only may use SQS and nothing else (SNS answers it AccessDenied).
sqs_auth_seed() {
  local user out id secret json="{"
  # Empty first: a seeding cut short by a failure would leave users that CreateUser then refuses.
  curl -fsS -m 5 -X POST "http://127.0.0.1:$SQS_AUTH_PORT/moto-api/reset" >/dev/null || return 1
  for user in allowed:'*' sqsOnly:'sqs:*'; do
    local name="${user%%:*}" action="${user#*:}"
    moto_auth_iam "Action=CreateUser&UserName=anymq-$name" >/dev/null || return 1
    out="$(moto_auth_iam "Action=CreateAccessKey&UserName=anymq-$name")" || return 1
    id="$(grep -o '<AccessKeyId>[^<]*' <<<"$out" | cut -d'>' -f2)"
    secret="$(grep -o '<SecretAccessKey>[^<]*' <<<"$out" | cut -d'>' -f2)"
    [ -n "$id" ] && [ -n "$secret" ] || return 1
    moto_auth_iam "Action=PutUserPolicy&UserName=anymq-$name&PolicyName=anymq&PolicyDocument=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' \
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"$action\",\"Resource\":\"*\"}]}")" >/dev/null || return 1
    json+="\"$name\":{\"accessKeyId\":\"$id\",\"secretAccessKey\":\"$secret\"},"
  done
  # From here on every request is checked (moto's INITIAL_NO_AUTH_ACTION_COUNT, set at run time).
  curl -fsS -m 5 -H 'Content-Type: text/plain' -d 0 "http://127.0.0.1:$SQS_AUTH_PORT/moto-api/reset-auth" >/dev/null || return 1
  printf '%s\n' "${json%,}}" >"$MOTO_AUTH_USERS.tmp" && mv "$MOTO_AUTH_USERS.tmp" "$MOTO_AUTH_USERS"
}

# The HTTPS moto answers, and its certificate verifies against the CA.
sqs_tls_ready() {
  curl -fsS -m 5 --cacert "$TLS_DIR/ca.pem" -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' "https://127.0.0.1:$SQS_TLS_PORT/" | grep -q '^{'
}

sqs_start() {
  mkdir -p "$MOTO_DIR"
  rm -f "$MOTO_DIR/moto.pid"
  echo "==== $(date -Is) starting moto server ====" >>"$MOTO_DIR/moto.log"
  spawn "$MOTO_DIR/moto.pid" "$MOTO_DIR/moto.log" \
    "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" || return 1
  # The plain server alone may have died (kill -9 in a test): an HTTPS one still running keeps its port.
  if tls_enabled && ! pid_alive "$MOTO_DIR/moto-tls.pid" "$MOTO_TLS_MARKER"; then
    rm -f "$MOTO_DIR/moto-tls.pid"
    echo "==== $(date -Is) starting moto server (https) ====" >>"$MOTO_DIR/moto-tls.log"
    spawn "$MOTO_DIR/moto-tls.pid" "$MOTO_DIR/moto-tls.log" \
      "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$SQS_TLS_PORT" -c "$TLS_DIR/server.pem" -k "$TLS_DIR/server.key" || return 1
  fi
  if ! sqs_auth_ours; then
    rm -f "$MOTO_DIR/moto-auth.pid" "$MOTO_AUTH_USERS"
    echo "==== $(date -Is) starting moto server (checking signatures and policies) ====" >>"$MOTO_DIR/moto-auth.log"
    spawn "$MOTO_DIR/moto-auth.pid" "$MOTO_DIR/moto-auth.log" "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$SQS_AUTH_PORT" || return 1
  fi
  wait_ready sqs_ours "SQS ListQueues / SNS ListTopics on http://127.0.0.1:$MOTO_PORT (and https://127.0.0.1:$SQS_TLS_PORT, http://127.0.0.1:$SQS_AUTH_PORT)" sqs_ready
}

sqs_stop() {
  stop_pidfile "$MOTO_DIR/moto-auth.pid" "$MOTO_AUTH_MARKER" 15
  rm -f "$MOTO_AUTH_USERS"
  stop_pidfile "$MOTO_DIR/moto-tls.pid" "$MOTO_TLS_MARKER" 15
  stop_pidfile "$MOTO_DIR/moto.pid" "$MOTO_MARKER" 15
}
