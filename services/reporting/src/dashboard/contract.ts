// The dashboard's JSON API, as types shared by the reporting service (which answers) and the page
// (services/reporting/web, which asks). Types only: nothing here runs.
//
// Decimal quantities travel as decimal strings, exactly as reporting computes them (the page
// rounds them for display); chart series travel as numbers (what the chart plots), and a null
// point is an interval or hour without data.

export type Role = 'operator' | 'integrator' | 'enterprise' | 'service';

export interface SessionInfo {
  role: Role;
  subject: string;
  /** Set for an enterprise token: the one enterprise it may see. */
  enterpriseId?: string;
  /** The parks the caller may open (an enterprise: its own park, for its enterprise page only). */
  parks: { parkId: string; timeZone: string; today: string }[];
  /** Enterprises the caller may open: every one of the parks for park-wide roles, else its own. */
  enterprises: { enterpriseId: string; parkId: string; name: string; energyUsing: boolean }[];
  /** Whether park-wide views (overview, dispatch, data quality) are open to the caller. */
  parkViews: boolean;
  /** Other services the dashboard asks, as this deployment configures them. */
  sources: { carbon: boolean; dispatch: boolean };
  /** How the page learns that data changed: server-sent events on this path. */
  events: string;
}

export interface Kpi {
  name: string;
  label: string;
  value?: string;
  unit: string;
  target?: string;
  comparison?: '<=' | '>=';
  status: 'met' | 'not_met' | 'no_data' | 'none';
}

export interface DayTrendPoint {
  /** Park-local day, YYYY-MM-DD. */
  day: string;
  renewableShare: number | null;
  co2PerTce: number | null;
  coverage: number | null;
}

export interface Overview {
  parkId: string;
  granularity: 'day' | 'month' | 'year';
  period: string;
  sizeBand: string;
  scope2Method: 'market' | 'location';
  /** Exactly GetParkKpis for the same park, granularity and period. */
  kpis: Kpi[];
  /** The KPIs of each day of the period up to today (a year: its last 31 days with data). */
  trend: DayTrendPoint[];
}

/** One 15-minute interval of a park's day: average power in kW (metered kWh x 4). */
export interface BalanceInterval {
  start: string;
  gridImportKw: number | null;
  directLineKw: number | null;
  pvKw: number | null;
  windKw: number | null;
  /** Storage discharge minus charge: positive supplies the park. */
  storageKw: number | null;
  plannedImportKw: number | null;
  plannedLoadKw: number | null;
}

export interface Balance {
  parkId: string;
  day: string;
  planId?: string;
  intervals: BalanceInterval[];
}

export interface RankingEntry {
  rank: number;
  enterpriseId: string;
  name: string;
  intensity?: string;
  renewableShare?: string;
  energyTce: string;
  co2T: string;
}

export interface Ranking {
  parkId: string;
  month: string;
  order: 'intensity' | 'renewable_share';
  entries: RankingEntry[];
}

export interface CommoditySeries {
  commodity: string;
  role: string;
  unit: string;
  /** One value per day of `days`, in `unit`. */
  values: (number | null)[];
}

export interface Footprint {
  /** One value per day of `days`, tCO2e. */
  scope1: (number | null)[];
  scope2Location: (number | null)[];
  scope2Market: (number | null)[];
  /** The month's totals, tCO2e, exact. */
  totals: { scope1: string; scope2Location: string; scope2Market: string };
}

export interface EnterpriseView {
  enterpriseId: string;
  name: string;
  parkId: string;
  month: string;
  timeZone: string;
  /** The month's park-local days. */
  days: string[];
  /** The monthly statement's rows (as the CSV and PDF statement show them). */
  statement: { label: string; value: string; unit: string }[];
  series: CommoditySeries[];
  footprint: Footprint;
  /**
   * The hourly carbon-free energy score: heat[d][h] for day d of `days` and park-local hour h
   * (0 to 23), min(carbon-free, consumption) / consumption; null without consumption.
   */
  heat: (number | null)[][];
  installations: { installationId: string; name: string }[];
}

export interface CertificateCoverage {
  entryId: string;
  recordedAt?: string;
  intervalStart?: string;
  /** Grid electricity covered, kWh. */
  quantityKwh: string;
  serials: string[];
}

export interface CarbonData {
  /** False when carbon is not configured or did not answer: `reason` says which. */
  available: boolean;
  reason?: string;
  certificates?: {
    /** Grid electricity covered by retired certificates in the month, kWh. */
    certificateKwh: string;
    renewableShare?: string;
    cfeScore?: string;
    coverage: CertificateCoverage[];
  };
  cbam: {
    installationId: string;
    name: string;
    /** CbamData as carbon's JSON, or why it could not be had. */
    data?: unknown;
    error?: string;
  }[];
}

export interface PlannedBattery {
  batteryId: string;
  /** Planned power per interval: discharge minus charge, kW. */
  powerKw: (number | null)[];
  /** Planned SOC at each interval's end, kWh and (with dispatch's topology) % of its energy. */
  socKwh: (number | null)[];
  socPercent: (number | null)[];
  /** Metered SOC per interval (its SOC meter's telemetry, %), with dispatch's topology. */
  meteredSocPercent: (number | null)[];
  /** The setpoint in force per interval, kW (positive discharges). */
  setpointKw: (number | null)[];
  energyKwh?: number;
  socMeterId?: string;
}

export interface SetpointRow {
  setpointId: string;
  assetId: string;
  planId: string;
  powerKw: number;
  validFrom: string;
  validUntil: string;
  status: 'issued' | 'acknowledged' | 'expired' | 'superseded';
  acknowledgedAt?: string;
  safeMode?: string;
}

export interface PlanSummary {
  planId: string;
  kind: string;
  status: string;
  issuedAt: string;
  firstStart?: string;
  notes: string[];
  assetsInSafeMode: string[];
  violations: {
    name: string;
    constraint: string;
    start?: string;
    assetId: string;
    sizeKwh: number;
  }[];
}

export interface DispatchView {
  parkId: string;
  day: string;
  /** Interval starts of the day's plan (intervals in force, intraday plans included). */
  starts: string[];
  plannedImportKw: (number | null)[];
  actualImportKw: (number | null)[];
  plannedLoadKw: (number | null)[];
  batteries: PlannedBattery[];
  plans: PlanSummary[];
  setpoints: SetpointRow[];
  /** Whether dispatch's topology was had (capacities, SOC meters); `topologyNote` says why not. */
  topology: boolean;
  topologyNote?: string;
}

export interface QualityRow {
  enterpriseId: string;
  name: string;
  expected: number;
  measured: number;
  estimated: number;
  edited: number;
  missing: number;
}

export interface QualityView {
  parkId: string;
  day: string;
  /** The instant shares and silence are taken at: min(now, the day's end). */
  asOf: string;
  totals: QualityRow;
  enterprises: QualityRow[];
  trend: { day: string; estimatedShare: number | null; missingShare: number | null }[];
  gaps: {
    meterId: string;
    enterpriseId: string;
    start: string;
    end: string;
    missingIntervals: number;
    arrived: number;
  }[];
  silent: {
    meterId: string;
    enterpriseId: string;
    commodity: string;
    role: string;
    /** End of its last interval; absent when it never reported. */
    lastEnd?: string;
  }[];
}

/** Public: what the sign-in page may offer. */
export interface DashboardConfig {
  devSignIn: boolean;
}

/** Public, development sign-in only: the enterprises a development token can be made for. */
export interface DevEnterprises {
  enterprises: { enterpriseId: string; name: string; parkId: string }[];
}
