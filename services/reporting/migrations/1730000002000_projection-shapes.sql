-- Up Migration

-- The shape (revision of tables and apply logic) each version was built with: a service whose
-- code has a newer shape rebuilds the projection into a new version when it starts.
ALTER TABLE projection_versions ADD COLUMN shape integer NOT NULL DEFAULT 1;

-- Down Migration

ALTER TABLE projection_versions DROP COLUMN shape;
