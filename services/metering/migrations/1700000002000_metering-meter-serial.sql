-- Up Migration

-- The physical meter's serial number (a replacement changes it) and when the meter was
-- registered, so GetMeter and ListMeters answer from the read model alone.
ALTER TABLE meters ADD COLUMN serial_number text;
ALTER TABLE meters ADD COLUMN registered_at timestamptz;

-- Down Migration
ALTER TABLE meters DROP COLUMN registered_at;
ALTER TABLE meters DROP COLUMN serial_number;
