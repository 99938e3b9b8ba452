import { CSV_CONTENT_TYPE, escapeCell, isPlainNumber, renderCsv } from './csv';
import type { EnterpriseStatement, ParkReport } from './model';
import { ENTERPRISE_NAME, enterpriseStatement, parkReport } from './test-support/fixtures';

function smallStatement(): EnterpriseStatement {
  return {
    kind: 'enterprise_statement',
    title: '企业月度能源碳排放报表 Statement',
    parkName: '沈阳零碳产业园',
    enterpriseId: 'ent-0042',
    enterpriseName: ENTERPRISE_NAME,
    month: '2024-04',
    timeZone: 'Asia/Shanghai',
    rows: [
      { label: 'Scope 1', value: '1,081.094', unit: 'tCO2e' },
      { label: 'Renewable share', value: '42.86', unit: '%', target: '>= 90', status: 'not met' },
    ],
    daily: [
      { day: '2024-04-01', renewableShare: 0.4286 },
      { day: '2024-04-02', renewableShare: null },
      { day: '2024-04-03', renewableShare: 1 },
    ],
    notes: ['Scope 2 "market-based", see notes'],
    asOf: '2024-04-30T16:00:00Z',
  };
}

/** A strict RFC 4180 reader, to check what a spreadsheet program would read back. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error('unterminated quoted field');
        cell += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        cell += '"';
        i++;
      }
    } else {
      const end = text.slice(i).search(/[,\r\n"]/);
      cell = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += cell.length;
      if (text[i] === '"') throw new Error(`bare quote at ${i}`);
    }
    record.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
      if (i === text.length) return records;
      continue;
    }
    throw new Error(`expected CRLF at ${i}, got ${JSON.stringify(text.slice(i, i + 5))}`);
  }
}

describe('renderCsv', () => {
  it('writes an enterprise statement in the documented layout, exactly', () => {
    expect(renderCsv(smallStatement())).toBe(
      '\uFEFF' +
        [
          'Title,企业月度能源碳排放报表 Statement,,,',
          'Park,沈阳零碳产业园,,,',
          `Enterprise,${ENTERPRISE_NAME},,,`,
          'Enterprise ID,ent-0042,,,',
          'Month,2024-04,,,',
          'Time zone,Asia/Shanghai,,,',
          'As of,2024-04-30T16:00:00Z,,,',
          ',,,,',
          'Label,Value,Unit,Target,Status',
          'Scope 1,"1,081.094",tCO2e,,',
          'Renewable share,42.86,%,>= 90,not met',
          ',,,,',
          'Day,Renewable share (%),,,',
          '2024-04-01,42.86,,,',
          '2024-04-02,,,,',
          '2024-04-03,100.00,,,',
          ',,,,',
          'Notes,,,,',
          '"Scope 2 ""market-based"", see notes",,,,',
        ]
          .map((line) => `${line}\r\n`)
          .join(''),
    );
  });

  it('writes a park report with its ranking table, six fields in every record', () => {
    const report: ParkReport = {
      ...parkReport(2),
      rows: [
        { label: 'Platform coverage', value: '95.00', unit: '%', target: '>= 90', status: 'met' },
      ],
      daily: [{ day: '2024-04-01', renewableShare: 0.92314 }],
      notes: [],
    };
    expect(renderCsv(report)).toBe(
      '\uFEFF' +
        [
          'Title,园区月度报告 Park monthly report,,,,',
          'Park,沈阳零碳产业园,,,,',
          'Park ID,park-shenyang-1,,,,',
          'Month,2024-04,,,,',
          'Time zone,Asia/Shanghai,,,,',
          'As of,2024-04-30T16:00:00Z,,,,',
          ',,,,,',
          'Label,Value,Unit,Target,Status,',
          'Platform coverage,95.00,%,>= 90,met,',
          ',,,,,',
          'Rank,Enterprise,Energy (tce),CO2 (t),Intensity (tCO2/tce),Renewable share (%)',
          `1,${ENTERPRISE_NAME},"1,000.500","2,000.125",0.300,95.00`,
          '2,中铝沈阳有色金属加工有限公司,"1,037.500","2,053.125",0.311,94.30',
          ',,,,,',
          'Day,Renewable share (%),,,,',
          '2024-04-01,92.31,,,,',
          ',,,,,',
          'Notes,,,,,',
        ]
          .map((line) => `${line}\r\n`)
          .join(''),
    );
  });

  it('reads back, under a strict RFC 4180 reader, to the same number of fields per record', () => {
    for (const report of [enterpriseStatement(), parkReport()]) {
      const records = parseCsv(renderCsv(report).slice(1));
      const widths = new Set(records.map((record) => record.length));
      expect(widths).toEqual(new Set([report.kind === 'park_report' ? 6 : 5]));
      expect(records.some((record) => record.includes(ENTERPRISE_NAME))).toBe(true);
    }
  });

  it('starts with a UTF-8 byte order mark and keeps Chinese text intact in UTF-8', () => {
    const bytes = Buffer.from(renderCsv(enterpriseStatement()), 'utf8');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain(ENTERPRISE_NAME);
    expect(CSV_CONTENT_TYPE).toBe('text/csv; charset=utf-8');
  });

  it('quotes cells with quotes, commas and line breaks, and reads them back intact', () => {
    const report = smallStatement();
    report.notes = ['a, b', 'say "hi"', 'two\r\nlines', 'lone\nLF', 'plain'];
    const records = parseCsv(renderCsv(report).slice(1));
    expect(records.slice(-5).map((record) => record[0])).toEqual(report.notes);
    expect(renderCsv(report)).toContain(
      '\r\n"a, b",,,,\r\n"say ""hi""",,,,\r\n"two\r\nlines",,,,\r\n',
    );
  });

  it('guards cells that a spreadsheet would run as formulas, but keeps plain numbers numeric', () => {
    const report = smallStatement();
    report.rows = [
      { label: '=HYPERLINK("http://x","y")', value: '-3.2', unit: '@SUM(A1)' },
      { label: '+cmd|calc', value: '-1,081.094', unit: '-', target: '+7', status: '\tx' },
      { label: '-2+3', value: '+1.5', unit: '\rx', target: '=1', status: 'ok' },
    ];
    const records = parseCsv(renderCsv(report).slice(1));
    const table = records.slice(records.findIndex((r) => r[0] === 'Label') + 1).slice(0, 3);
    expect(table).toEqual([
      [`'=HYPERLINK("http://x","y")`, '-3.2', `'@SUM(A1)`, '', ''],
      [`'+cmd|calc`, '-1,081.094', `'-`, '+7', `'\tx`],
      [`'-2+3`, '+1.5', `'\rx`, `'=1`, 'ok'],
    ]);
  });

  it('tells plain numbers from other text', () => {
    for (const cell of ['-3.2', '+7', '0.5', '-1,081.094', '12,345,678', '-0']) {
      expect([cell, isPlainNumber(cell)]).toEqual([cell, true]);
    }
    for (const cell of ['-', '-1e5', '-3.2%', '--1', '-1,08.1', '-.5', '- 3', '=1', '1,2345']) {
      expect([cell, isPlainNumber(cell)]).toEqual([cell, false]);
    }
    expect(escapeCell('-1e5')).toBe(`'-1e5`);
    expect(escapeCell('-1,081.094')).toBe('"-1,081.094"');
  });

  it('writes every section with its header even when it is empty', () => {
    const report: ParkReport = { ...parkReport(0), rows: [], daily: [], notes: [] };
    const records = parseCsv(renderCsv(report).slice(1));
    expect(records.slice(6)).toEqual([
      ['', '', '', '', '', ''],
      ['Label', 'Value', 'Unit', 'Target', 'Status', ''],
      ['', '', '', '', '', ''],
      [
        'Rank',
        'Enterprise',
        'Energy (tce)',
        'CO2 (t)',
        'Intensity (tCO2/tce)',
        'Renewable share (%)',
      ],
      ['', '', '', '', '', ''],
      ['Day', 'Renewable share (%)', '', '', '', ''],
      ['', '', '', '', '', ''],
      ['Notes', '', '', '', '', ''],
    ]);
  });

  it('gives the same text for the same report', () => {
    expect(renderCsv(parkReport())).toBe(renderCsv(parkReport()));
  });
});
