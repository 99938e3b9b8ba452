-- Up Migration

-- The event log. global_position is handed out at insert, not at commit, so readers of the
-- global log order by (transaction_id, global_position) and only read transactions below the
-- snapshot's xmin: every event below that watermark is committed or will never be.
CREATE TABLE events (
  global_position bigserial PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id uuid NOT NULL UNIQUE,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL CHECK (stream_version > 0),
  event_type text NOT NULL,
  schema_version integer NOT NULL DEFAULT 1,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_global_order ON events (transaction_id, global_position);

-- Wakes processors waiting for new events; one notification per statement, not per row.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('park_events', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Stored events are never rewritten or removed.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Where each processor (projection, relay) has got to in the global log.
CREATE TABLE processor_checkpoints (
  processor text PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT '0'::xid8,
  global_position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The newest snapshot of a long stream's state; events after snapshot_version are replayed on it.
CREATE TABLE stream_snapshots (
  stream_id text PRIMARY KEY,
  stream_version bigint NOT NULL,
  state_version integer NOT NULL,
  state jsonb NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE stream_snapshots;
DROP TABLE processor_checkpoints;
DROP TABLE events;
DROP FUNCTION events_append_only();
DROP FUNCTION events_notify();
