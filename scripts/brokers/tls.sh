# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): TLS + authentication: the local certificate authority and each broker's TLS listener.

# ----------------------------------------------------------------------------------------------
# TLS + authentication: a local certificate authority (openssl) and, beside every plain listener,
# a TLS one that demands a password: RabbitMQ amqps (user + vhost), Redis rediss (ACL user),
# Kafka SASL_SSL (SCRAM-SHA-512); SQS/SNS over HTTPS is a second moto (AWS checks no password here). Certificates are made at run time into $TLS_DIR (gitignored).
# ANYMQ_TLS=0 leaves the TLS listeners out.
# ----------------------------------------------------------------------------------------------
TLS_DIR="$BROKERS_DIR/tls"
RABBITMQ_TLS_PORT="${ANYMQ_RABBITMQ_TLS_PORT:-5671}"
REDIS_TLS_PORT="${ANYMQ_REDIS_TLS_PORT:-6380}"
KAFKA_TLS_PORT="${ANYMQ_KAFKA_TLS_PORT:-9094}"
# Test credentials of the TLS listeners. `anymq-noperm` has a valid password and no permission.
TLS_USER="anymq-tls"
TLS_PASSWORD="anymq-tls-Pa55word"
TLS_NOPERM_USER="anymq-noperm"
# RabbitMQ only: may read and write on the TLS vhost but not configure (declare) anything, for
# `anymq conformance` failing meaningfully on a broker with a feature removed.
NOCONFIGURE_USER="anymq-noconfigure"
TLS_VHOST="anymq-tls"

tls_enabled() { [ "${ANYMQ_TLS:-1}" != 0 ]; }

# One certificate signed by the CA: tls_issue name subject-alt-names [openssl-ca date options...]
tls_issue() {
  local name="$1" san="$2"
  shift 2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS_DIR/$name.key" 2>/dev/null || return 1
  openssl req -new -key "$TLS_DIR/$name.key" -subj "/CN=$name" -out "$TLS_DIR/$name.csr" 2>/dev/null || return 1
  printf 'subjectAltName = %s\nextendedKeyUsage = serverAuth, clientAuth\n' "$san" >"$TLS_DIR/$name.ext"
  # `openssl ca` rather than `x509 -req`: only it takes explicit start and end dates (the expired one).
  openssl ca -batch -notext -config "$TLS_DIR/ca.cnf" -extfile "$TLS_DIR/$name.ext" -in "$TLS_DIR/$name.csr" \
    -out "$TLS_DIR/$name.pem" "$@" >>"$TLS_DIR/openssl.log" 2>&1 || return 1
  rm -f "$TLS_DIR/$name.csr" "$TLS_DIR/$name.ext"
}

# CA, server certificate for localhost/127.0.0.1, client certificate (mTLS), an expired server
# certificate, one for another host name, and a second CA that signed none of them (the "wrong CA" of the tests). Idempotent.
tls_ensure_ca() {
  tls_enabled || return 0
  [ -f "$TLS_DIR/.complete" ] && return 0
  command -v openssl >/dev/null || fail "openssl not found (Debian package openssl)" || return 1
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR/issued"
  : >"$TLS_DIR/index.txt"
  echo 1000 >"$TLS_DIR/serial"
  cat >"$TLS_DIR/ca.cnf" <<CNF
[ ca ]
default_ca = anymq
[ anymq ]
dir = $TLS_DIR
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/issued
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_days = 825
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
CNF
  local ca
  for ca in ca other-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=anymq test $ca" \
      -keyout "$TLS_DIR/$ca.key" -out "$TLS_DIR/$ca.pem" >>"$TLS_DIR/openssl.log" 2>&1 || fail "openssl: creating $ca failed" || return 1
  done
  tls_issue server "DNS:localhost, IP:127.0.0.1" || fail "openssl: server certificate failed" || return 1
  tls_issue client "DNS:$TLS_USER" || fail "openssl: client certificate failed" || return 1
  tls_issue expired "DNS:localhost, IP:127.0.0.1" -startdate 20200101000000Z -enddate 20200102000000Z ||
    fail "openssl: expired certificate failed" || return 1
  tls_issue wrong-host "DNS:elsewhere.invalid" || fail "openssl: wrong-host certificate failed" || return 1
  # The brokers run as this user (postgres as `postgres`): the keys stay readable by their owner only.
  chmod 600 "$TLS_DIR"/*.key
  touch "$TLS_DIR/.complete"
}

# Lines for rabbitmq.conf: an amqps listener; a client certificate is checked when one is sent.
rabbitmq_tls_conf() {
  tls_enabled || return 0
  cat <<CONF
listeners.ssl.default = 127.0.0.1:$RABBITMQ_TLS_PORT
ssl_options.cacertfile = $TLS_DIR/ca.pem
ssl_options.certfile = $TLS_DIR/server.pem
ssl_options.keyfile = $TLS_DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
}

# The TLS user (all permissions on its vhost) and the user without any permission. Idempotent;
# one rabbitmqctl call when they exist already (each call costs ~1-2 s of CLI start-up).
rabbitmq_tls_users() {
  tls_enabled || return 0
  local users
  users=$(rabbitmq_run rabbitmqctl -q list_users 2>>"$RMQ_DIR/startup.log") || fail "rabbitmqctl list_users failed" || return 1
  if ! grep -q "^$TLS_NOPERM_USER\b" <<<"$users"; then
    {
      rabbitmq_run rabbitmqctl -q add_vhost "$TLS_VHOST" || true
      rabbitmq_run rabbitmqctl -q add_user "$TLS_USER" "$TLS_PASSWORD" &&
        rabbitmq_run rabbitmqctl -q set_permissions -p "$TLS_VHOST" "$TLS_USER" '.*' '.*' '.*' &&
        rabbitmq_run rabbitmqctl -q add_user "$TLS_NOPERM_USER" "$TLS_PASSWORD"
    } >>"$RMQ_DIR/startup.log" 2>&1 || fail "creating the RabbitMQ TLS users failed" || return 1
  fi
  if ! grep -q "^$NOCONFIGURE_USER\b" <<<"$users"; then
    {
      rabbitmq_run rabbitmqctl -q add_user "$NOCONFIGURE_USER" "$TLS_PASSWORD" &&
        rabbitmq_run rabbitmqctl -q set_permissions -p "$TLS_VHOST" "$NOCONFIGURE_USER" '^$' '.*' '.*'
    } >>"$RMQ_DIR/startup.log" 2>&1 || fail "creating the RabbitMQ user without configure permission failed" || return 1
  fi
}

# redis-server arguments: a TLS port (client certificates optional) and two ACL users, given as
# SHA-256 hashes so the password is not on the command line. anymq-noperm may touch no key.
redis_tls_args() {
  tls_enabled || return 0
  local hash
  hash=$(printf '%s' "$TLS_PASSWORD" | sha256sum | cut -d' ' -f1)
  printf '%s\n' --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$TLS_DIR/server.pem" --tls-key-file "$TLS_DIR/server.key" \
    --tls-ca-cert-file "$TLS_DIR/ca.pem" --tls-auth-clients optional \
    --user "$TLS_USER" on "#$hash" '~*' '&*' '+@all' \
    --user "$TLS_NOPERM_USER" on "#$hash" resetkeys resetchannels -@all +auth +hello +ping +client +select +info
}

# Kafka: a SASL_SSL listener (SCRAM-SHA-512; a client certificate is checked when one is sent) added
# to whatever listeners kafka_write_config wrote. An authorizer denies a SASL user without ACLs
# (anymq-noperm); the plain listeners' ANONYMOUS and the TLS user are super users.
kafka_tls_config() {
  tls_enabled || return 0
  local file="$KAFKA_DIR/server.properties"
  # PEM "keystore": the private key (PKCS#8) followed by the certificate.
  cat "$TLS_DIR/server.key" "$TLS_DIR/server.pem" >"$TLS_DIR/kafka-server-keystore.pem"
  chmod 600 "$TLS_DIR/kafka-server-keystore.pem"
  sed -i -e "s|^listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT|" \
    -e "s|^advertised.listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT|" \
    -e "s|^listener.security.protocol.map=.*|&,SASL_SSL:SASL_SSL|" "$file"
  cat >>"$file" <<PROPS
# TLS + SCRAM-SHA-512 (scripts/brokers.sh, tls section)
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/kafka-server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=requested
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS;User:$TLS_USER
PROPS
}

# SCRAM credentials live in the cluster's metadata: set once per data directory, through the plain
# listener (kafka.admin.ConfigCommand is in Kafka 3.9 and 4.x alike).
kafka_tls_users() {
  tls_enabled || return 0
  local marker="$(kafka_data)/.anymq-scram-users" user
  [ -f "$marker" ] && return 0
  for user in "$TLS_USER" "$TLS_NOPERM_USER"; do
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users \
      --entity-name "$user" --add-config "SCRAM-SHA-512=[iterations=4096,password=$TLS_PASSWORD]" >>"$KAFKA_DIR/kafka.log" 2>&1 ||
      fail "kafka: adding the SCRAM user $user failed" || return 1
  done
  touch "$marker"
}

# PostgreSQL: TLS on its one port (clients ask for it), for `sslmode=verify-full`. The server key
# must belong to the user postgres runs as and be private, so the certificate and key are copied.
postgres_tls_files() {
  tls_enabled || return 0
  mkdir -p "$PG_DIR/tls"
  cp "$TLS_DIR/server.pem" "$TLS_DIR/server.key" "$TLS_DIR/ca.pem" "$PG_DIR/tls/"
  chmod 600 "$PG_DIR/tls/server.key"
  if is_root; then chown -R postgres: "$PG_DIR/tls"; fi
}

postgres_tls_options() {
  tls_enabled || return 0
  printf -- '-c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s -c ssl_ca_file=%s' \
    "$PG_DIR/tls/server.pem" "$PG_DIR/tls/server.key" "$PG_DIR/tls/ca.pem"
}

# Query string of the TLS URLs: the CA file, so the URL alone is enough to connect.
tls_url_query() { printf '?ca=%s' "$TLS_DIR/ca.pem"; }

tls_env() { # prefix quote
  tls_enabled || return 0
  local prefix="$1" q="$2"
  echo "${prefix}ANYMQ_TLS_DIR=$q$TLS_DIR$q"
  echo "${prefix}ANYMQ_TLS_PASSWORD=$q$TLS_PASSWORD$q"
  echo "${prefix}ANYMQ_RABBITMQ_TLS_URL=${q}amqps://$TLS_USER:$TLS_PASSWORD@localhost:$RABBITMQ_TLS_PORT/$TLS_VHOST$(tls_url_query)$q"
  echo "${prefix}ANYMQ_RABBITMQ_NOCONFIGURE_URL=${q}amqp://$NOCONFIGURE_USER:$TLS_PASSWORD@127.0.0.1:$RABBITMQ_PORT/$TLS_VHOST$q"
  echo "${prefix}ANYMQ_KAFKA_TLS_URL=${q}kafka://$TLS_USER:$TLS_PASSWORD@127.0.0.1:$KAFKA_TLS_PORT?saslMechanism=scram-sha-512&ca=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_POSTGRES_TLS_URL=${q}postgres://anymq:anymq@localhost:$POSTGRES_PORT/anymq?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_SQS_TLS_URL=${q}sqs://us-east-1?endpoint=https://localhost:$SQS_TLS_PORT&ca=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_REDIS_TLS_URL=${q}rediss://$TLS_USER:$TLS_PASSWORD@localhost:$REDIS_TLS_PORT$(tls_url_query)$q"
}
