export type {
  DailyPoint,
  EnterpriseStatement,
  ParkReport,
  RankingLine,
  Report,
  ReportRow,
} from './model';
export { CSV_CONTENT_TYPE, renderCsv } from './csv';
export { formatSharePercent } from './format';
export { PDF_CONTENT_TYPE, PDF_FONT, renderPdf } from './pdf';
