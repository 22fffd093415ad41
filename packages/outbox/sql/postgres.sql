-- @anymq/outbox schema for PostgreSQL (11 or newer). Plain SQL, safe to run again.
-- Table names are the defaults; `store.migrate()` runs this file with the names you configured
-- (every identifier starting with anymq_outbox, anymq_outbox_dead_letters or anymq_inbox is renamed),
-- or copy it into your own migrations and rename them there.

-- Messages written by outbox.add() inside the application's transaction, waiting for the relay.
CREATE TABLE IF NOT EXISTS anymq_outbox (
  position        bigserial PRIMARY KEY,          -- insertion order: the relay publishes in this order per key
  id              text        NOT NULL,           -- message id (travels to the broker; the inbox dedupes on it)
  destination     jsonb       NOT NULL,           -- where: {"kind":"queue","queue":{...}} or {"kind":"topic","topic":"..."}
  key             text,                           -- ordering key; NULL = no order
  body            bytea       NOT NULL,           -- the encoded body (codec output, schema-validated)
  content_type    text        NOT NULL,
  headers         jsonb       NOT NULL DEFAULT '{}',
  correlation_id  text,
  reply_to        text,
  subject         text,
  delay_ms        integer     NOT NULL DEFAULT 0,
  priority        smallint,
  dedupe_id       text,
  timestamp_ms    bigint      NOT NULL,           -- the message timestamp: when add() ran
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0, -- failed publish attempts so far
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  sent_at         timestamptz                     -- set once the broker confirmed; cleaned after the retention
);
CREATE INDEX IF NOT EXISTS anymq_outbox_pending_idx ON anymq_outbox (position) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS anymq_outbox_key_idx ON anymq_outbox (key, position) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS anymq_outbox_sent_idx ON anymq_outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Rows the relay gave up on after the configured attempts, with the last error; replayable.
CREATE TABLE IF NOT EXISTS anymq_outbox_dead_letters (
  position        bigserial PRIMARY KEY,
  id              text        NOT NULL,
  destination     jsonb       NOT NULL,
  key             text,
  body            bytea       NOT NULL,
  content_type    text        NOT NULL,
  headers         jsonb       NOT NULL DEFAULT '{}',
  correlation_id  text,
  reply_to        text,
  subject         text,
  delay_ms        integer     NOT NULL DEFAULT 0,
  priority        smallint,
  dedupe_id       text,
  timestamp_ms    bigint      NOT NULL,
  created_at      timestamptz NOT NULL,
  attempts        integer     NOT NULL,
  error           text        NOT NULL,
  failed_at       timestamptz NOT NULL DEFAULT now()
);

-- Wakes relays (LISTEN anymq_outbox) when a transaction that wrote the outbox commits.
CREATE OR REPLACE FUNCTION anymq_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('anymq_outbox', '');
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS anymq_outbox_notify ON anymq_outbox;
CREATE TRIGGER anymq_outbox_notify AFTER INSERT ON anymq_outbox FOR EACH STATEMENT EXECUTE PROCEDURE anymq_outbox_notify();

-- The idempotent consumer: ids of messages a consumer has processed, written in the handler's transaction.
CREATE TABLE IF NOT EXISTS anymq_inbox (
  consumer     text        NOT NULL,
  message_id   text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
CREATE INDEX IF NOT EXISTS anymq_inbox_processed_idx ON anymq_inbox (processed_at);
