// What a command prints: one view, rendered as a table for people, as CSV for spreadsheets and
// as JSON (the service's own proto3 JSON) for scripts.

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | bigint | boolean | null | undefined;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  /** The table's and the CSV's header; the key when omitted. */
  header?: string;
  /** Numbers read better right-aligned in a table. */
  align?: 'left' | 'right';
}

export interface Section {
  /** Printed above the section in a table (never in CSV). */
  title?: string;
  columns: Column[];
  rows: Row[];
  /**
   * `rows` (default): a row per item. `record`: one item, shown in a table as "field  value"
   * lines (in CSV still a header and one row).
   */
  layout?: 'rows' | 'record';
  /** Printed in a table instead of an empty table when there are no rows. */
  empty?: string;
}

export interface View {
  /** What `--output json` prints. */
  json: unknown;
  /** What `--output table` and `--output csv` print, in order. */
  sections: Section[];
  /** Lines printed after the table (never in CSV or JSON), e.g. "12 more not shown". */
  notes?: string[];
  /**
   * Printed verbatim for `--output csv` instead of the sections, e.g. a CSV the server made.
   */
  rawCsv?: string;
  /** Printed verbatim for `--output table` instead of the sections, e.g. a bare token. */
  rawTable?: string;
  /** The process's exit code once printed (0 when absent). */
  exitCode?: number;
}

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** The text a view prints in the format, ending with a line break (or empty). */
export function render(view: View, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${toJson(view.json)}\n`;
    case 'csv':
      if (view.rawCsv !== undefined) {
        return view.rawCsv.endsWith('\n') ? view.rawCsv : `${view.rawCsv}\n`;
      }
      return view.sections.map(renderCsv).join('\n');
    case 'table': {
      if (view.rawTable !== undefined) return view.rawTable;
      const parts = view.sections.map(renderSection);
      const notes = (view.notes ?? []).map((note) => `${note}\n`).join('');
      return parts.join('\n') + (notes && parts.length > 0 ? '\n' : '') + notes;
    }
  }
}

/** JSON with two-space indentation; bigints (int64 fields) as strings, as proto3 JSON has them. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    2,
  );
}

/** A cell's text: empty for absent values, decimals and bigints as they are. */
export function cellText(cell: Cell): string {
  if (cell === undefined || cell === null) return '';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return String(cell);
}

function csvCellText(cell: Cell): string {
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return cellText(cell);
}

/** RFC 4180 quoting: a field with a comma, a quote, a line break or edge spaces is quoted. */
export function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and a line per row (LF line ends). */
export function renderCsv(section: Section): string {
  const lines = [section.columns.map((column) => csvField(column.header ?? column.key)).join(',')];
  for (const row of section.rows) {
    lines.push(section.columns.map((column) => csvField(csvCellText(row[column.key]))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function renderSection(section: Section): string {
  const title = section.title ? `${section.title}\n` : '';
  if (section.rows.length === 0) return `${title}${section.empty ?? '(none)'}\n`;
  if (section.layout === 'record') return title + renderRecord(section);
  return title + renderTable(section);
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function renderTable(section: Section): string {
  const headers = section.columns.map((column) => (column.header ?? column.key).toUpperCase());
  const cells = section.rows.map((row) =>
    section.columns.map((column) => oneLine(cellText(row[column.key]))),
  );
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((line) => line[index]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) =>
        section.columns[index]!.align === 'right'
          ? value.padStart(widths[index]!)
          : value.padEnd(widths[index]!),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].map((text) => `${text}\n`).join('');
}

/** One item as "label  value" lines; absent values are left out. */
function renderRecord(section: Section): string {
  const row = section.rows[0]!;
  const shown = section.columns.filter((column) => cellText(row[column.key]) !== '');
  const width = Math.max(0, ...shown.map((column) => (column.header ?? column.key).length));
  return shown
    .map(
      (column) =>
        `${`${column.header ?? column.key}:`.padEnd(width + 1)}  ${oneLine(cellText(row[column.key]))}\n`,
    )
    .join('');
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ');
}

/** A list view: the same items as JSON and as a table. */
export function listView(json: unknown, columns: Column[], rows: Row[], empty?: string): View {
  return { json, sections: [{ columns, rows, empty }] };
}

/** A single item's view. */
export function recordView(json: unknown, columns: Column[], row: Row): View {
  return { json, sections: [{ columns, rows: [row], layout: 'record' }] };
}
