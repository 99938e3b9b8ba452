// A small CSV reader for the files parkctl reads itself (certificates): RFC 4180 quoting, a
// header row naming the columns, one record per line.

/** One line's fields; undefined when a quote is left open. */
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
      field = '';
      quoted = true;
    } else if (char === ',') {
      fields.push(field.trim());
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) return undefined;
  fields.push(field.trim());
  return fields;
}

export interface CsvRecord {
  /** Line number in the file, from 1 (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

/** The records of a CSV text under its header's (lower-cased) column names; blank lines skipped. */
export function parseCsv(text: string): { columns: string[]; records: CsvRecord[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) return { columns: [], records: [] };
  const header = splitCsvLine(lines[headerIndex]!);
  if (!header) throw new Error(`line ${headerIndex + 1}: the header has an unterminated quote`);
  const columns = header.map((name) => name.toLowerCase());
  const records: CsvRecord[] = [];
  for (let index = headerIndex + 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line);
    if (!fields) throw new Error(`line ${index + 1}: unterminated quote`);
    if (fields.length !== columns.length) {
      throw new Error(
        `line ${index + 1}: ${fields.length} fields, the header has ${columns.length}`,
      );
    }
    records.push({
      line: index + 1,
      values: Object.fromEntries(columns.map((column, i) => [column, fields[i]!])),
    });
  }
  return { columns, records };
}
