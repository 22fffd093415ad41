-- @anymq/outbox schema for SQLite (3.35 or newer). Plain SQL, safe to run again.
-- Table names are the defaults; `store.migrate()` runs this file with the names you configured
-- (every identifier starting with anymq_outbox, anymq_outbox_dead_letters or anymq_inbox is renamed),
-- or copy it into your own migrations and rename them there. Times are epoch milliseconds.
-- Use WAL mode (PRAGMA journal_mode = WAL) so the relay and the application do not block each other's reads.

-- Messages written by outbox.add() inside the application's transaction, waiting for the relay.
CREATE TABLE IF NOT EXISTS anymq_outbox (
  position        INTEGER PRIMARY KEY AUTOINCREMENT, -- insertion order: the relay publishes in this order per key
  id              TEXT    NOT NULL,
  destination     TEXT    NOT NULL,                  -- JSON: {"kind":"queue","queue":{...}} or {"kind":"topic","topic":"..."}
  key             TEXT,
  body            BLOB    NOT NULL,
  content_type    TEXT    NOT NULL,
  headers         TEXT    NOT NULL DEFAULT '{}',     -- JSON object of strings
  correlation_id  TEXT,
  reply_to        TEXT,
  subject         TEXT,
  delay_ms        INTEGER NOT NULL DEFAULT 0,
  priority        INTEGER,
  dedupe_id       TEXT,
  timestamp_ms    INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  claimed_by      TEXT,                              -- relay holding the row while it publishes
  claimed_until   INTEGER,                           -- its lease: after this another relay may take the row
  sent_at         INTEGER
);
CREATE INDEX IF NOT EXISTS anymq_outbox_pending_idx ON anymq_outbox (position) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS anymq_outbox_key_idx ON anymq_outbox (key, position) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS anymq_outbox_sent_idx ON anymq_outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Rows the relay gave up on after the configured attempts, with the last error; replayable.
CREATE TABLE IF NOT EXISTS anymq_outbox_dead_letters (
  position        INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL,
  destination     TEXT    NOT NULL,
  key             TEXT,
  body            BLOB    NOT NULL,
  content_type    TEXT    NOT NULL,
  headers         TEXT    NOT NULL DEFAULT '{}',
  correlation_id  TEXT,
  reply_to        TEXT,
  subject         TEXT,
  delay_ms        INTEGER NOT NULL DEFAULT 0,
  priority        INTEGER,
  dedupe_id       TEXT,
  timestamp_ms    INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  error           TEXT    NOT NULL,
  failed_at       INTEGER NOT NULL
);

-- The idempotent consumer: ids of messages a consumer has processed, written in the handler's transaction.
CREATE TABLE IF NOT EXISTS anymq_inbox (
  consumer     TEXT    NOT NULL,
  message_id   TEXT    NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (consumer, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS anymq_inbox_processed_idx ON anymq_inbox (processed_at);
