-- edgewarden's collector table, log_entries, as the agents read it with `preset: log_entries`
-- (agent-runtime/src/source/presets.ts): `id` is the watermark they read after, `timestamp`
-- the time, `device_id` the device, `process_name` the program, `log_level` the severity and
-- `message` the text. The other columns are the design's: the collector fills `device_ip` and
-- `raw_message`; the last five are for later use and may stay empty.
--
-- Run it as the owner of the database (again is harmless):
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -d syslog < log_entries.sql
-- then give the two roles their passwords (psql prompts, nothing lands in shell history):
--   sudo -u postgres psql -d syslog -c '\password rsyslog_writer' -c '\password edgewarden_ro'
-- k3s/collector/60-edgewarden.conf (rsyslog) writes into this table; the test
-- test/integration/k3s.test.ts runs both against a real PostgreSQL and reads the rows back
-- with the agents' own reader.

CREATE TABLE IF NOT EXISTS log_entries (
  id bigserial PRIMARY KEY,
  device_id text,
  device_ip inet,
  "timestamp" timestamptz NOT NULL,
  log_level text,
  process_name text,
  message text,
  raw_message text,
  structured_data jsonb,
  pushed_to_ai boolean DEFAULT false,
  pushed_at timestamptz,
  push_attempts int DEFAULT 0,
  last_push_error text
);

-- ExportJobs read a time range in (timestamp, id) order; the agents read by id (the key).
CREATE INDEX IF NOT EXISTS log_entries_timestamp_id ON log_entries ("timestamp", id);

-- Two roles: the collector may only add rows, the agents may only read them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rsyslog_writer') THEN
    CREATE ROLE rsyslog_writer LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'edgewarden_ro') THEN
    CREATE ROLE edgewarden_ro LOGIN;
  END IF;
END
$$;
GRANT INSERT ON log_entries TO rsyslog_writer;
GRANT USAGE ON SEQUENCE log_entries_id_seq TO rsyslog_writer;
GRANT SELECT ON log_entries TO edgewarden_ro;
