-- Up Migration

-- Carbon read models. The registry mirror comes from metering's compacted registry topic; the
-- rest is projected from this service's own streams in the transaction that appends to them.

CREATE TABLE carbon_parks (
  park_id text PRIMARY KEY,
  time_zone text NOT NULL,
  grid_region text NOT NULL,
  size_band text NOT NULL
);

CREATE TABLE carbon_enterprises (
  enterprise_id text PRIMARY KEY,
  park_id text NOT NULL,
  name text NOT NULL,
  energy_using boolean NOT NULL,
  exporter boolean NOT NULL
);
CREATE INDEX carbon_enterprises_park ON carbon_enterprises (park_id);

CREATE TABLE carbon_meters (
  meter_id text PRIMARY KEY,
  enterprise_id text NOT NULL,
  commodity text NOT NULL,
  role text NOT NULL,
  unit text NOT NULL,
  source_generator_id text,
  source_entity_id text,
  steam_enthalpy_gj_per_tonne numeric
);
CREATE INDEX carbon_meters_enterprise ON carbon_meters (enterprise_id);

CREATE TABLE carbon_generators (
  generator_id text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  capacity_kw numeric,
  attribute_status text NOT NULL
);

-- Every version of every factor set; restatement progress per version.
CREATE TABLE factor_sets (
  set_id text NOT NULL,
  version integer NOT NULL,
  content jsonb NOT NULL,
  published_at timestamptz NOT NULL,
  published_by text NOT NULL,
  restatement_status text NOT NULL,
  restated_intervals bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (set_id, version)
);

-- Dispatch's allocations of direct-line power; the highest revision counts.
CREATE TABLE green_allocations (
  enterprise_id text NOT NULL,
  generator_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  line_id text NOT NULL,
  meter_id text,
  allocated_kwh numeric NOT NULL,
  revision bigint NOT NULL,
  PRIMARY KEY (enterprise_id, generator_id, interval_start)
);

-- The posting that currently stands for each reading (meter, interval): a new value or factor is
-- booked as its reversal plus the new posting. `reading` keeps what the posting was computed
-- from, so a factor version or an allocation can recompute it.
CREATE TABLE ledger_basis (
  meter_id text NOT NULL,
  interval_start timestamptz NOT NULL,
  enterprise_id text NOT NULL,
  reading jsonb NOT NULL,
  posting jsonb NOT NULL,
  uses_fallback boolean NOT NULL,
  PRIMARY KEY (meter_id, interval_start)
);
CREATE INDEX ledger_basis_interval ON ledger_basis (interval_start);

-- Every ledger line, as appended (postings, reversals, certificate coverage). Sums over these
-- rows are the footprints; each row names the stream event it came from.
CREATE TABLE ledger_lines (
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  line_index integer NOT NULL,
  enterprise_id text NOT NULL,
  park_id text NOT NULL,
  kind text NOT NULL,
  cause text NOT NULL,
  prior_period boolean NOT NULL,
  meter_id text,
  interval_start timestamptz NOT NULL,
  hour_start timestamptz NOT NULL,
  category text NOT NULL,
  commodity text,
  quantity numeric NOT NULL,
  unit text NOT NULL,
  quality text,
  internal_supplier_id text,
  energy_kgce numeric NOT NULL,
  electricity_kwh numeric NOT NULL,
  grid_kwh numeric NOT NULL,
  renewable_kwh numeric NOT NULL,
  carbon_free_kwh numeric NOT NULL,
  scope1_kgco2e numeric NOT NULL,
  scope2_location_kgco2e numeric NOT NULL,
  scope2_market_kgco2e numeric NOT NULL,
  factors jsonb NOT NULL,
  source text NOT NULL,
  certificate_serials text[],
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (stream_id, stream_version, line_index)
);
CREATE INDEX ledger_lines_enterprise_interval ON ledger_lines (enterprise_id, interval_start);
CREATE INDEX ledger_lines_park_interval ON ledger_lines (park_id, interval_start);

CREATE TABLE closed_periods (
  park_id text NOT NULL,
  month date NOT NULL,
  closed_at timestamptz NOT NULL,
  closed_by text NOT NULL,
  PRIMARY KEY (park_id, month)
);

-- Serials are unique across the park: one enterprise's import cannot take another's serial.
CREATE TABLE certificates (
  serial text PRIMARY KEY,
  enterprise_id text NOT NULL,
  vintage text NOT NULL,
  generator_id text NOT NULL,
  mwh numeric NOT NULL,
  retired_from date,
  retired_to date
);
CREATE INDEX certificates_enterprise ON certificates (enterprise_id);

CREATE TABLE processes (
  process_id text PRIMARY KEY,
  installation_id text NOT NULL,
  enterprise_id text NOT NULL,
  name text NOT NULL,
  meter_ids text[] NOT NULL
);
CREATE INDEX processes_installation ON processes (installation_id);

CREATE TABLE production_records (
  process_id text NOT NULL,
  month date NOT NULL,
  cn_code text NOT NULL,
  net_mass_tonnes numeric NOT NULL,
  route text NOT NULL,
  non_cbam_output boolean NOT NULL,
  stream_version bigint NOT NULL,
  PRIMARY KEY (process_id, month, cn_code, route)
);

CREATE TABLE precursor_records (
  process_id text NOT NULL,
  month date NOT NULL,
  cn_code text NOT NULL,
  origin text NOT NULL,
  supplier text NOT NULL,
  consumed_tonnes numeric NOT NULL,
  direct_see numeric NOT NULL,
  indirect_see numeric NOT NULL,
  stream_version bigint NOT NULL,
  PRIMARY KEY (process_id, month, cn_code, origin, supplier)
);

-- Down Migration

DROP TABLE precursor_records, production_records, processes, certificates, closed_periods,
  ledger_lines, ledger_basis, green_allocations, factor_sets, carbon_generators, carbon_meters,
  carbon_enterprises, carbon_parks;
