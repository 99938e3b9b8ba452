-- Up Migration

-- Metering read models. Every row carries the version of the stream event that last wrote it:
-- the projection only moves a row forward, so applying the same events again, or in another
-- order than the global log's (a rebuild), leaves the same rows.

CREATE TABLE parks (
  park_id text PRIMARY KEY,
  name text NOT NULL,
  time_zone text NOT NULL,
  latitude double precision NOT NULL,
  longitude double precision NOT NULL,
  grid_region text NOT NULL,
  size_band text NOT NULL,
  stream_version bigint NOT NULL
);

CREATE TABLE enterprises (
  enterprise_id text PRIMARY KEY,
  park_id text NOT NULL,
  name text NOT NULL,
  credit_code text NOT NULL,
  industry_code text NOT NULL,
  exporter boolean NOT NULL,
  energy_using boolean NOT NULL,
  key_energy_consuming_unit boolean NOT NULL,
  stream_version bigint NOT NULL
);
CREATE INDEX enterprises_park ON enterprises (park_id);

CREATE TABLE installations (
  installation_id text PRIMARY KEY,
  enterprise_id text NOT NULL,
  park_id text NOT NULL,
  name text NOT NULL,
  meter_ids text[] NOT NULL,
  stream_version bigint NOT NULL
);
CREATE INDEX installations_enterprise ON installations (enterprise_id);

-- The meter's registration (descriptor and VEE parameters); multiplier and register maximum are
-- the current ones, after the latest replacement.
CREATE TABLE meters (
  meter_id text PRIMARY KEY,
  park_id text NOT NULL,
  enterprise_id text NOT NULL,
  installation_id text,
  time_zone text NOT NULL,
  commodity text NOT NULL,
  role text NOT NULL,
  unit text NOT NULL,
  register_type text NOT NULL,
  register_maximum numeric,
  multiplier numeric NOT NULL,
  rated_power_kw numeric,
  interval_minutes integer NOT NULL,
  source_generator_id text,
  source_entity_id text,
  enthalpy_gj_per_tonne numeric,
  status text NOT NULL CHECK (status IN ('active', 'decommissioned')),
  decommissioned_at timestamptz,
  stream_version bigint NOT NULL
);
CREATE INDEX meters_enterprise ON meters (enterprise_id, commodity, role);
CREATE INDEX meters_active ON meters (meter_id) WHERE status = 'active';

-- One row per (meter, interval). value is the interval's quantity in the meter's unit after the
-- multiplier; null only for a cumulative meter's register whose predecessor is not known yet.
-- register is the raw register at the interval's end (cumulative meters).
CREATE TABLE readings (
  meter_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  interval_end timestamptz NOT NULL,
  value numeric,
  quality text NOT NULL CHECK (quality IN ('measured', 'estimated', 'edited')),
  source text NOT NULL,
  register numeric,
  register_edited boolean NOT NULL DEFAULT false,
  park_id text NOT NULL,
  enterprise_id text NOT NULL,
  commodity text NOT NULL,
  role text NOT NULL,
  unit text NOT NULL,
  stream_version bigint NOT NULL,
  PRIMARY KEY (meter_id, interval_start)
) PARTITION BY RANGE (interval_start);

-- Takes whatever no month partition exists for yet, so no reading is ever refused.
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

-- GetSeries for an enterprise: (enterprise, commodity, role) over a time range.
CREATE INDEX readings_series ON readings (enterprise_id, commodity, role, interval_start);

-- Creates the partition of the UTC month containing `at` (readings_yYYYYmMM) unless it exists,
-- moving any rows of that month out of the default partition first. Serialised by an advisory
-- lock; call it in a short transaction of its own, since it takes DDL locks.
CREATE FUNCTION metering_ensure_readings_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
  lo timestamptz := month_start AT TIME ZONE 'UTC';
  hi timestamptz := (month_start + interval '1 month') AT TIME ZONE 'UTC';
  partition_name text := 'readings_y' || to_char(month_start, 'YYYY') || 'm' || to_char(month_start, 'MM');
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN partition_name;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('metering.readings_partitions'));
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN partition_name;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
    partition_name);
  EXECUTE format(
    'WITH moved AS (DELETE FROM readings_default WHERE interval_start >= $1 AND interval_start < $2 RETURNING *) '
    'INSERT INTO %I SELECT * FROM moved', partition_name) USING lo, hi;
  EXECUTE format('ALTER TABLE readings ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
    partition_name, lo, hi);
  RETURN partition_name;
END;
$$;

-- Readings held for an operator; resolution is set once resolved (kept, with its version, so a
-- replay in any order cannot bring a resolved hold back).
CREATE TABLE held_readings (
  meter_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  interval_end timestamptz NOT NULL,
  value numeric,
  register numeric,
  source text NOT NULL,
  reason text NOT NULL,
  limit_value numeric,
  enterprise_id text NOT NULL,
  resolution text,
  resolution_reason text,
  stream_version bigint NOT NULL,
  PRIMARY KEY (meter_id, interval_start)
);
CREATE INDEX held_readings_open ON held_readings (meter_id) WHERE resolution IS NULL;

-- Gaps too long to estimate, as reported; closed once late data filled them.
CREATE TABLE meter_gaps (
  meter_id text NOT NULL,
  gap_start timestamptz NOT NULL,
  gap_end timestamptz NOT NULL,
  missing_intervals integer NOT NULL,
  closed boolean NOT NULL DEFAULT false,
  stream_version bigint NOT NULL,
  PRIMARY KEY (meter_id, gap_start, gap_end)
);

-- Down Migration
DROP TABLE meter_gaps;
DROP TABLE held_readings;
DROP FUNCTION metering_ensure_readings_partition(timestamptz);
DROP TABLE readings;
DROP TABLE meters;
DROP TABLE installations;
DROP TABLE enterprises;
DROP TABLE parks;
