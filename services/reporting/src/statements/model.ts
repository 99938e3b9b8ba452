/**
 * Reports as data, before rendering: every value is already formatted for display (rounded
 * half-even as the reporting rules say), so the CSV and the PDF of one report show the same
 * text, and rendering the same data twice gives the same bytes.
 */
export interface ReportRow {
  /** What the row is, e.g. "Scope 2 (market-based)". */
  label: string;
  /** Display text of the value, e.g. "1,081.094" or "42.86"; "n/a" when there is no data. */
  value: string;
  /** e.g. "tCO2e", "%", "tce", "kWh". */
  unit: string;
  /** KPI rows: the target, e.g. ">= 90" or "<= 0.2"; empty for plain figures. */
  target?: string;
  /** KPI rows: "met", "not met" or "no data". */
  status?: string;
}

export interface DailyPoint {
  /** Park-local day, YYYY-MM-DD. */
  day: string;
  /** Renewable electricity share of the day, 0..1; null without electricity. */
  renewableShare: number | null;
}

export interface RankingLine {
  rank: number;
  enterpriseName: string;
  energyTce: string;
  co2T: string;
  intensity: string;
  renewableSharePercent: string;
}

export interface EnterpriseStatement {
  kind: 'enterprise_statement';
  /** Bilingual title. */
  title: string;
  parkName: string;
  enterpriseId: string;
  /** As registered: Chinese names must come out intact. */
  enterpriseName: string;
  /** YYYY-MM in park time. */
  month: string;
  timeZone: string;
  rows: ReportRow[];
  daily: DailyPoint[];
  notes: string[];
  /** The instant the report describes up to (its period end), used as the document's date. */
  asOf: string;
}

export interface ParkReport {
  kind: 'park_report';
  title: string;
  parkId: string;
  parkName: string;
  month: string;
  timeZone: string;
  /** KPI rows with target and status. */
  rows: ReportRow[];
  ranking: RankingLine[];
  daily: DailyPoint[];
  notes: string[];
  asOf: string;
}

export type Report = EnterpriseStatement | ParkReport;
