-- Up Migration

-- Dispatch read models. The registry mirror and metered values come from metering's topics;
-- the rest is projected from this service's streams in the transaction that appends to them.

CREATE TABLE dispatch_parks (
  park_id text PRIMARY KEY,
  time_zone text NOT NULL,
  latitude numeric NOT NULL,
  longitude numeric NOT NULL
);

CREATE TABLE dispatch_meters (
  meter_id text PRIMARY KEY,
  enterprise_id text NOT NULL,
  commodity text NOT NULL,
  role text NOT NULL,
  unit text NOT NULL
);

-- Interval values of the meters dispatch follows (electricity kWh, storage SOC percent).
CREATE TABLE metered_values (
  meter_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  value numeric NOT NULL,
  PRIMARY KEY (meter_id, interval_start)
);
CREATE INDEX metered_values_interval ON metered_values (interval_start);

-- Which direct line each meter feeds into the allocation of (line, consumer and storage meters).
CREATE TABLE line_meters (
  meter_id text NOT NULL,
  line_id text NOT NULL,
  park_id text NOT NULL,
  PRIMARY KEY (meter_id, line_id)
);

-- Storage state-of-charge meters and the batteries they describe (live SOC).
CREATE TABLE soc_meters (
  meter_id text PRIMARY KEY,
  battery_id text NOT NULL,
  park_id text NOT NULL
);

CREATE TABLE direct_lines (
  line_id text PRIMARY KEY,
  park_id text NOT NULL,
  definition jsonb NOT NULL
);

CREATE TABLE forecasts (
  park_id text NOT NULL,
  asset_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  kw double precision NOT NULL,
  submitted_at timestamptz NOT NULL,
  PRIMARY KEY (park_id, asset_id, interval_start)
);

CREATE TABLE plans (
  plan_id text PRIMARY KEY,
  park_id text NOT NULL,
  day date NOT NULL,
  kind text NOT NULL,
  issued_at timestamptz NOT NULL,
  content jsonb NOT NULL
);
CREATE INDEX plans_park_day ON plans (park_id, day, issued_at DESC);

CREATE TABLE setpoints (
  setpoint_id text PRIMARY KEY,
  park_id text NOT NULL,
  asset_id text NOT NULL,
  plan_id text NOT NULL,
  power_kw double precision NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  ack_deadline timestamptz NOT NULL,
  status text NOT NULL,
  issued_at timestamptz NOT NULL,
  acknowledged_at timestamptz
);
CREATE INDEX setpoints_asset ON setpoints (asset_id, valid_from DESC);
CREATE INDEX setpoints_open ON setpoints (ack_deadline) WHERE status = 'issued';

-- The latest allocation of each line and interval (its revision grows with every change).
CREATE TABLE line_allocations (
  line_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  revision bigint NOT NULL,
  result jsonb NOT NULL,
  PRIMARY KEY (line_id, interval_start)
);

-- Down Migration

DROP TABLE line_allocations, setpoints, plans, forecasts, direct_lines, soc_meters, line_meters,
  metered_values, dispatch_meters, dispatch_parks;
