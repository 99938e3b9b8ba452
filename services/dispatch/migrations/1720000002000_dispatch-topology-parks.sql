-- Up Migration

-- The parks that have a dispatch topology, for the scheduler's pass over them (instead of
-- scanning the event log for topology streams on every tick).
CREATE TABLE topology_parks (park_id text PRIMARY KEY);
INSERT INTO topology_parks
  SELECT DISTINCT substr(stream_id, length('topology-') + 1) FROM events
  WHERE stream_id LIKE 'topology-%';

-- Down Migration

DROP TABLE topology_parks;
