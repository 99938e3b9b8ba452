import { formatSharePercent } from './format';
import type { Report } from './model';

/** Media type of {@link renderCsv}'s output once encoded as UTF-8 (the BOM is part of the text). */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

const BOM = '\uFEFF';
const CRLF = '\r\n';

/**
 * Renders a report as CSV text (RFC 4180): records end with CRLF (the last one too), fields are
 * quoted only when they contain a double quote, a comma, CR or LF, and quotes inside are doubled.
 * The text starts with a byte order mark so spreadsheet programs read it as UTF-8 and show Chinese
 * names intact; encode it as UTF-8 (`Buffer.from(csv, 'utf8')`) and serve it as
 * {@link CSV_CONTENT_TYPE}.
 *
 * Layout, top to bottom, sections separated by one empty record:
 *
 * 1. Header block, one `key,value` record per line: `Title`, `Park`, then `Enterprise` and
 *    `Enterprise ID` (enterprise statement) or `Park ID` (park report), `Month`, `Time zone`,
 *    `As of`.
 * 2. The rows table: `Label,Value,Unit,Target,Status`, one record per row; target and status are
 *    empty for plain figures.
 * 3. Park report only: the ranking table,
 *    `Rank,Enterprise,Energy (tce),CO2 (t),Intensity (tCO2/tce),Renewable share (%)`.
 * 4. The daily table: `Day,Renewable share (%)`, one record per daily point in the order given,
 *    the share in percent with two decimals (rounded half-even), empty for a day without
 *    electricity.
 * 5. The notes: a `Notes` record, then one record per note.
 *
 * Every section is written, with its column header, even when it has no records. Every record has
 * the same number of fields (the widest section's: 5 for an enterprise statement, 6 for a park
 * report), shorter ones padded with empty fields, as RFC 4180 asks; separators are records of
 * empty fields.
 *
 * Formula injection: a cell whose text starts with `=`, `+`, `-`, `@`, a tab or CR gets a leading
 * apostrophe (`'`), so spreadsheet programs show it as text instead of evaluating it; the
 * apostrophe is then part of the cell's text. A cell that is a plain number in full (an optional
 * sign, digits with optional thousands commas, an optional fraction, e.g. `-3.2`, `+1,081.094`,
 * see {@link isPlainNumber}) is left as it is: it cannot be a formula and stays numeric.
 */
export function renderCsv(report: Report): string {
  const sections: string[][][] = [];

  const header: string[][] = [
    ['Title', report.title],
    ['Park', report.parkName],
  ];
  if (report.kind === 'enterprise_statement') {
    header.push(['Enterprise', report.enterpriseName], ['Enterprise ID', report.enterpriseId]);
  } else {
    header.push(['Park ID', report.parkId]);
  }
  header.push(['Month', report.month], ['Time zone', report.timeZone], ['As of', report.asOf]);
  sections.push(header);

  sections.push([
    ['Label', 'Value', 'Unit', 'Target', 'Status'],
    ...report.rows.map((row) => [
      row.label,
      row.value,
      row.unit,
      row.target ?? '',
      row.status ?? '',
    ]),
  ]);

  if (report.kind === 'park_report') {
    sections.push([
      [
        'Rank',
        'Enterprise',
        'Energy (tce)',
        'CO2 (t)',
        'Intensity (tCO2/tce)',
        'Renewable share (%)',
      ],
      ...report.ranking.map((line) => [
        String(line.rank),
        line.enterpriseName,
        line.energyTce,
        line.co2T,
        line.intensity,
        line.renewableSharePercent,
      ]),
    ]);
  }

  sections.push([
    ['Day', 'Renewable share (%)'],
    ...report.daily.map((point) => [point.day, formatSharePercent(point.renewableShare)]),
  ]);

  sections.push([['Notes'], ...report.notes.map((note) => [note])]);

  const width = Math.max(...sections.flat().map((record) => record.length));
  const records = sections.flatMap((section, index) => (index === 0 ? section : [[], ...section]));
  return BOM + records.map((record) => formatRecord(record, width) + CRLF).join('');
}

function formatRecord(cells: string[], width: number): string {
  const padded = [...cells];
  while (padded.length < width) padded.push('');
  return padded.map(escapeCell).join(',');
}

const FORMULA_TRIGGER = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$/;

/**
 * Whether a cell is a plain number in full, which no spreadsheet evaluates as a formula:
 * `-3.2`, `+7`, `-1,081.094`, `0.5`; not `-`, `-1e5`, `-3.2%` or `--1`.
 */
export function isPlainNumber(cell: string): boolean {
  return PLAIN_NUMBER.test(cell);
}

/** One field: formula-injection guard, then RFC 4180 quoting. */
export function escapeCell(cell: string): string {
  const guarded = FORMULA_TRIGGER.test(cell) && !isPlainNumber(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}
