import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { IncomingReading } from '../readings/model';

/**
 * Bulk upload formats of POST /v1/readings:bulk.
 *
 * CSV (text/csv): a header row naming the columns, in any order:
 *   meter_id,interval_start,value,register,unit[,reason]
 * `meter_id`, `interval_start` (RFC 3339 UTC, e.g. 2026-11-01T00:15:00Z) and `unit` are required,
 * with `value` (interval meters) or `register` (cumulative meters: the register at the end of the
 * interval). Fields may be quoted ("a, b"; "" for a quote inside). One reading per line.
 *
 * JSON lines (application/x-ndjson): one object per line with the same names, values as strings:
 *   {"meter_id":"m-1","interval_start":"2026-11-01T00:15:00Z","value":"12.5","unit":"kWh"}
 */
export type BulkFormat = 'csv' | 'ndjson';

export const CSV_COLUMNS = [
  'meter_id',
  'interval_start',
  'value',
  'register',
  'unit',
  'reason',
] as const;
type Column = (typeof CSV_COLUMNS)[number];

export type ParsedRow =
  | { row: number; meterId: string; reading: Omit<IncomingReading, 'source'> }
  | { row: number; error: { field: string; reason: string } };

export class BulkFormatError extends Error {
  override readonly name = 'BulkFormatError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses an upload line by line as it arrives, so a large file is never held in memory. Row
 * numbers count data rows from 1 (the CSV header is row 0). A bad row yields its error and
 * parsing goes on; a bad CSV header throws BulkFormatError, since no row can be read then.
 */
export async function* parseBulkReadings(
  input: Readable,
  format: BulkFormat,
): AsyncGenerator<ParsedRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let columns: Map<Column, number> | undefined;
  let row = 0;
  for await (const rawLine of lines) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (format === 'csv' && !columns) {
      columns = parseHeader(line);
      continue;
    }
    row += 1;
    yield format === 'csv' ? csvRow(row, line, columns!) : jsonRow(row, line);
  }
  if (format === 'csv' && !columns)
    throw new BulkFormatError('header', 'the CSV upload is empty: it needs a header row');
}

function parseHeader(line: string): Map<Column, number> {
  const names = splitCsvLine(line);
  if (!names) throw new BulkFormatError('header', 'the CSV header has an unterminated quote');
  const columns = new Map<Column, number>();
  names.forEach((name, index) => {
    const column = name.trim().toLowerCase();
    if (!(CSV_COLUMNS as readonly string[]).includes(column)) {
      throw new BulkFormatError(
        'header',
        `unknown column "${name}" (columns: ${CSV_COLUMNS.join(', ')})`,
      );
    }
    if (columns.has(column as Column))
      throw new BulkFormatError('header', `column "${column}" appears twice`);
    columns.set(column as Column, index);
  });
  for (const required of ['meter_id', 'interval_start', 'unit'] as const) {
    if (!columns.has(required))
      throw new BulkFormatError('header', `the CSV header needs a "${required}" column`);
  }
  if (!columns.has('value') && !columns.has('register')) {
    throw new BulkFormatError('header', 'the CSV header needs a "value" or a "register" column');
  }
  return columns;
}

function csvRow(row: number, line: string, columns: Map<Column, number>): ParsedRow {
  const fields = splitCsvLine(line);
  if (!fields) return { row, error: { field: 'row', reason: 'unterminated quote' } };
  if (fields.length !== columns.size) {
    return {
      row,
      error: {
        field: 'row',
        reason: `has ${fields.length} fields, the header has ${columns.size}`,
      },
    };
  }
  const get = (column: Column) => {
    const index = columns.get(column);
    const value = index === undefined ? undefined : fields[index]!.trim();
    return value === '' ? undefined : value;
  };
  return toReading(row, {
    meterId: get('meter_id'),
    intervalStart: get('interval_start'),
    value: get('value'),
    register: get('register'),
    unit: get('unit'),
    reason: get('reason'),
  });
}

function jsonRow(row: number, line: string): ParsedRow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { row, error: { field: 'row', reason: 'not a JSON object' } };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { row, error: { field: 'row', reason: 'not a JSON object' } };
  }
  const object = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(object)) {
    if (!(CSV_COLUMNS as readonly string[]).includes(key))
      return { row, error: { field: key, reason: 'unknown field' } };
    // Numbers would have passed through a binary float already: exact decimals come as strings.
    if (typeof value !== 'string')
      return { row, error: { field: key, reason: 'must be a string' } };
  }
  const get = (key: Column) =>
    object[key] === '' ? undefined : (object[key] as string | undefined);
  return toReading(row, {
    meterId: get('meter_id'),
    intervalStart: get('interval_start'),
    value: get('value'),
    register: get('register'),
    unit: get('unit'),
    reason: get('reason'),
  });
}

function toReading(
  row: number,
  fields: {
    meterId?: string;
    intervalStart?: string;
    value?: string;
    register?: string;
    unit?: string;
    reason?: string;
  },
): ParsedRow {
  if (!fields.meterId) return { row, error: { field: 'meter_id', reason: 'is required' } };
  if (!fields.intervalStart)
    return { row, error: { field: 'interval_start', reason: 'is required' } };
  if (!fields.unit) return { row, error: { field: 'unit', reason: 'is required' } };
  if (fields.value === undefined && fields.register === undefined) {
    return { row, error: { field: 'value', reason: 'a value or a register is required' } };
  }
  if (fields.value !== undefined && fields.register !== undefined) {
    return { row, error: { field: 'register', reason: 'give a value or a register, not both' } };
  }
  const reading: Omit<IncomingReading, 'source'> = {
    intervalStart: fields.intervalStart,
    unit: fields.unit,
  };
  if (fields.value !== undefined) reading.value = fields.value;
  if (fields.register !== undefined) reading.register = fields.register;
  if (fields.reason !== undefined) reading.reason = fields.reason;
  return { row, meterId: fields.meterId, reading };
}

/** Splits one CSV line (RFC 4180 quoting, no line breaks inside fields); undefined if a quote is open. */
export function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}
