# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): Debian packages (apt) and which broker needs which.

# ----------------------------------------------------------------------------------------------
# installation (Debian packages, Kafka jars, Python venv)
# ----------------------------------------------------------------------------------------------
apt_missing() { # pkg... -> prints those not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

apt_install() { # pkg...
  local missing sudo=""
  missing=$(apt_missing "$@")
  [ -n "$missing" ] || return 0
  is_root || sudo="sudo"
  # shellcheck disable=SC2086
  say "installing Debian packages: $(echo $missing | tr '\n' ' ')"
  if [ -z "$APT_UPDATED" ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >>"$INSTALL_LOG" 2>&1 || fail "apt-get update failed" || return 1
    APT_UPDATED=1
  fi
  # The packages' own service start is refused by policy-rc.d in containers (harmless). On a
  # machine with systemd it starts the system's instance on the same port: stop that one.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing \
    >>"$INSTALL_LOG" 2>&1 || fail "apt-get install $missing failed"
}

# Debian packages the given brokers need (only those whose commands are missing).
debian_packages_for() { # broker...
  local b pkgs=()
  for b in "$@"; do
    case "$b" in
    rabbitmq) pkgs+=(rabbitmq-server) ;;
    redis)
      pkgs+=(redis-server redis-tools)
      if [ -n "$REDIS_VERSION" ] && [ ! -x "$(redis_bin_dir)/redis-server" ]; then
        command -v cc >/dev/null || pkgs+=(gcc libc6-dev)
        command -v make >/dev/null || pkgs+=(make)
        python3 -m pip --version >/dev/null 2>&1 || pkgs+=(python3-pip)
      fi
      ;;
    postgres) pkgs+=(postgresql) ;;
    nats)
      if [ "$NATS_VERSION" = debian ]; then
        command -v nats-server >/dev/null || pkgs+=(nats-server)
      elif [ ! -x "$(nats_bin_dir)/nats-server" ]; then
        command -v go >/dev/null || pkgs+=(golang-go)
      fi
      ;;
    pubsub) command -v curl >/dev/null || pkgs+=(curl) ;;
    elasticmq)
      command -v curl >/dev/null || pkgs+=(curl)
      command -v java >/dev/null || pkgs+=(default-jre-headless)
      [ -f "$(elasticmq_libs)/.complete" ] || command -v mvn >/dev/null || pkgs+=(maven)
      ;;
    kafka)
      pkgs+=(kcat)
      command -v java >/dev/null || pkgs+=(default-jre-headless)
      [ -f "$(kafka_libs)/.complete" ] || command -v mvn >/dev/null || pkgs+=(maven)
      ;;
    sqs)
      command -v curl >/dev/null || pkgs+=(curl)
      if [ ! -x "$VENV_DIR/bin/python" ]; then
        command -v python3 >/dev/null || pkgs+=(python3)
        python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
      fi
      ;;
    esac
  done
  echo "${pkgs[@]}"
}
