-- Up Migration

-- Versions of each projection: its tables live in schema rp_<projection>_v<version>. One
-- version is active (queries read it); a rebuild fills a 'building' one from offset 0 until it
-- reaches the topics' end offsets taken when it started (`target`), then the two swap.
CREATE TABLE projection_versions (
  projection text NOT NULL,
  version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'building', 'retired')),
  created_at timestamptz NOT NULL DEFAULT now(),
  switched_at timestamptz,
  target jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (projection, version)
);
CREATE UNIQUE INDEX projection_versions_one_active ON projection_versions (projection)
  WHERE status = 'active';

-- Down Migration

DROP TABLE projection_versions;
