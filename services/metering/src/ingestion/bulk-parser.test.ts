import { Readable } from 'node:stream';
import { BulkFormatError, parseBulkReadings, splitCsvLine, type ParsedRow } from './bulk-parser';

async function parse(text: string, format: 'csv' | 'ndjson'): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const row of parseBulkReadings(Readable.from([text]), format)) rows.push(row);
  return rows;
}

describe('CSV uploads', () => {
  it('reads rows by header name in any column order, keeping decimals as written', async () => {
    const rows = await parse(
      'unit,meter_id,interval_start,value\r\nkWh,m-1,2026-11-01T00:00:00Z,12.50\nkWh,m-1,2026-11-01T00:15:00Z,0.000001\n',
      'csv',
    );
    expect(rows).toEqual([
      {
        row: 1,
        meterId: 'm-1',
        reading: { intervalStart: '2026-11-01T00:00:00Z', unit: 'kWh', value: '12.50' },
      },
      {
        row: 2,
        meterId: 'm-1',
        reading: { intervalStart: '2026-11-01T00:15:00Z', unit: 'kWh', value: '0.000001' },
      },
    ]);
  });

  it('reads cumulative registers and a quoted reason', async () => {
    const rows = await parse(
      'meter_id,interval_start,register,unit,reason\nm-2,2026-11-01T00:15:00Z,99990.5,kWh,"re-read, after ""outage"""\n',
      'csv',
    );
    expect(rows).toEqual([
      {
        row: 1,
        meterId: 'm-2',
        reading: {
          intervalStart: '2026-11-01T00:15:00Z',
          unit: 'kWh',
          register: '99990.5',
          reason: 're-read, after "outage"',
        },
      },
    ]);
  });

  it('reports a malformed row by number and field and goes on with the next', async () => {
    const rows = await parse(
      [
        'meter_id,interval_start,value,unit',
        'm-1,2026-11-01T00:00:00Z,1,kWh,extra',
        ',2026-11-01T00:00:00Z,1,kWh',
        'm-1,"2026-11-01T00:15:00Z,1,kWh',
        'm-1,2026-11-01T00:30:00Z,,kWh',
        'm-1,2026-11-01T00:45:00Z,3,kWh',
      ].join('\n'),
      'csv',
    );
    expect(rows).toEqual([
      { row: 1, error: { field: 'row', reason: 'has 5 fields, the header has 4' } },
      { row: 2, error: { field: 'meter_id', reason: 'is required' } },
      { row: 3, error: { field: 'row', reason: 'unterminated quote' } },
      { row: 4, error: { field: 'value', reason: 'a value or a register is required' } },
      {
        row: 5,
        meterId: 'm-1',
        reading: { intervalStart: '2026-11-01T00:45:00Z', unit: 'kWh', value: '3' },
      },
    ]);
  });

  it.each([
    ['', /empty/],
    ['meter_id,interval_start,value,unit,colour\n', /unknown column "colour"/],
    ['meter_id,interval_start,value\n', /needs a "unit" column/],
    ['meter_id,interval_start,unit\n', /"value" or a "register"/],
    ['meter_id,meter_id,interval_start,value,unit\n', /appears twice/],
  ])('refuses the header of %j', async (text, message) => {
    await expect(parse(text, 'csv')).rejects.toThrow(BulkFormatError);
    await expect(parse(text, 'csv')).rejects.toThrow(message);
  });

  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(splitCsvLine('"open')).toBeUndefined();
  });
});

describe('JSON lines uploads', () => {
  it('reads objects with string values and refuses numbers, unknown fields and non-objects', async () => {
    const rows = await parse(
      [
        '{"meter_id":"m-1","interval_start":"2026-11-01T00:00:00Z","value":"1.25","unit":"kWh"}',
        '{"meter_id":"m-1","interval_start":"2026-11-01T00:15:00Z","value":1.25,"unit":"kWh"}',
        '{"meter_id":"m-1","interval_start":"2026-11-01T00:30:00Z","value":"1","unit":"kWh","colour":"red"}',
        '[1,2]',
        '{"meter_id":',
      ].join('\n'),
      'ndjson',
    );
    expect(rows).toEqual([
      {
        row: 1,
        meterId: 'm-1',
        reading: { intervalStart: '2026-11-01T00:00:00Z', unit: 'kWh', value: '1.25' },
      },
      { row: 2, error: { field: 'value', reason: 'must be a string' } },
      { row: 3, error: { field: 'colour', reason: 'unknown field' } },
      { row: 4, error: { field: 'row', reason: 'not a JSON object' } },
      { row: 5, error: { field: 'row', reason: 'not a JSON object' } },
    ]);
  });
});
