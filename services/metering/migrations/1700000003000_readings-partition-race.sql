-- Up Migration

-- Two ingests reaching a new month at once both called metering_ensure_readings_partition; the
-- second, once it had the advisory lock, still saw no partition through to_regclass (the
-- relation cache is not refreshed by an advisory lock) and failed with "relation ... already
-- exists". After the lock the check now reads pg_class with a fresh snapshot, and a partition
-- created meanwhile by any other path counts as done.
CREATE OR REPLACE FUNCTION metering_ensure_readings_partition(at timestamptz) RETURNS text
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
  IF EXISTS (
    SELECT 1 FROM pg_class c
    WHERE c.relname = partition_name AND c.relnamespace = to_regnamespace(current_schema())
  ) THEN
    RETURN partition_name;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
      partition_name);
  EXCEPTION WHEN duplicate_table THEN
    RETURN partition_name;
  END;
  EXECUTE format(
    'WITH moved AS (DELETE FROM readings_default WHERE interval_start >= $1 AND interval_start < $2 RETURNING *) '
    'INSERT INTO %I SELECT * FROM moved', partition_name) USING lo, hi;
  EXECUTE format('ALTER TABLE readings ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
    partition_name, lo, hi);
  RETURN partition_name;
END;
$$;
