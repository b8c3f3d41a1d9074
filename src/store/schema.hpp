// The SQLite store's tables. Times are milliseconds since the Unix epoch (UTC); 0 or NULL means
// "none". `schema_version` in PRAGMA user_version; a database of a later version is refused.
#pragma once

namespace smppd::store {

inline constexpr int kSchemaVersion = 2;

inline constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,              -- smppd's message id (what the client was given)
  client TEXT NOT NULL,                -- the client's system_id
  client_version INTEGER NOT NULL,     -- its SMPP version: 0x33, 0x34, 0x50
  client_ref TEXT,                     -- the client's own reference (HTTP/gRPC), if any
  command_id INTEGER NOT NULL,         -- submit_sm, data_sm or submit_multi
  accepted_at INTEGER NOT NULL,        -- durably stored and acknowledged
  not_before INTEGER NOT NULL DEFAULT 0,  -- schedule_delivery_time
  expires_at INTEGER NOT NULL DEFAULT 0,  -- validity_period
  registered_delivery INTEGER NOT NULL,
  route TEXT NOT NULL,
  upstream TEXT NOT NULL,              -- where it was routed (or last sent)
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  data_coding INTEGER NOT NULL,
  parts INTEGER NOT NULL,              -- 1, or the total of a long message's part
  pdu BLOB NOT NULL,                   -- the client's request as received (encoded PDU)
  state INTEGER NOT NULL,              -- store::MessageState
  attempts INTEGER NOT NULL DEFAULT 0, -- times handed to an upstream
  submitted_at INTEGER,
  smsc_id TEXT,
  done_at INTEGER,                     -- when its outcome became final (CDR written then)
  error INTEGER,                       -- the SMPP command_status of a refusal, or the receipt's err
  receipt_at INTEGER,                  -- when its receipt was handed to the client
  callback TEXT                        -- what it asked to be told by HTTP (CallbackSpec), if any
);
-- Queued and dispatched messages (what a restart resumes), by upstream in accepted order.
CREATE INDEX IF NOT EXISTS messages_to_send ON messages(upstream, id) WHERE state IN (1, 3);
CREATE INDEX IF NOT EXISTS messages_scheduled ON messages(not_before) WHERE state = 2;
CREATE INDEX IF NOT EXISTS messages_done ON messages(done_at) WHERE done_at IS NOT NULL;

-- What happened beyond the row's own columns (refusals, retries, requeues, failover).
CREATE TABLE IF NOT EXISTS events (
  id INTEGER NOT NULL,                 -- messages.id
  at INTEGER NOT NULL,
  state INTEGER NOT NULL,              -- the state it went to
  upstream TEXT,
  smsc_id TEXT,
  error INTEGER,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_id ON events(id);

-- The SMSC's ids, for receipts that come after a restart or days later.
CREATE TABLE IF NOT EXISTS smsc_ids (
  upstream TEXT NOT NULL,
  smsc_id TEXT NOT NULL,
  id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (upstream, smsc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS smsc_ids_at ON smsc_ids(at);

-- Receipts and MO for clients, kept until the client acknowledges them.
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY,             -- order of arrival
  client TEXT NOT NULL,
  at INTEGER NOT NULL,
  message_id INTEGER,                  -- the message a receipt is for
  pdu BLOB NOT NULL                    -- the deliver_sm / data_sm as it goes to the client
);
CREATE INDEX IF NOT EXISTS deliveries_by_client ON deliveries(client, seq);
CREATE INDEX IF NOT EXISTS deliveries_at ON deliveries(at);
)sql";

// From one version to the next, applied in order to an older file (in one transaction).
inline constexpr const char* kMigrations[] = {
    // 1 -> 2: HTTP callbacks.
    "ALTER TABLE messages ADD COLUMN callback TEXT;",
};

}  // namespace smppd::store
