import { render, renderCsv, renderTable, toJson, type View } from './output';
import { formatBytes, ProgressBar } from './progress';

const view: View = {
  json: [{ meterId: 'm-1', ratedPowerKw: { value: '100' }, count: 3n }],
  sections: [
    {
      columns: [
        { key: 'meter_id', header: 'meter' },
        { key: 'role' },
        { key: 'rated', header: 'rated kW', align: 'right' },
        { key: 'active' },
      ],
      rows: [
        { meter_id: 'm-1', role: 'grid_import', rated: '100', active: true },
        { meter_id: 'meter-long-2', role: 'onsite_pv', rated: '2500.5', active: false },
        { meter_id: 'm-3', role: undefined, rated: null, active: undefined },
      ],
    },
  ],
  notes: ['3 meters'],
};

describe('table', () => {
  it('pads columns to their widest cell, right-aligns numbers and ends with the notes', () => {
    expect(render(view, 'table')).toBe(
      [
        'METER         ROLE         RATED KW  ACTIVE',
        'm-1           grid_import       100  yes',
        'meter-long-2  onsite_pv      2500.5  no',
        'm-3',
        '',
        '3 meters',
        '',
      ].join('\n'),
    );
  });

  it('shows one item as label: value lines, leaving out absent values', () => {
    const text = render(
      {
        json: {},
        sections: [
          {
            layout: 'record',
            columns: [{ key: 'id', header: 'enterprise' }, { key: 'name' }, { key: 'exporter' }],
            rows: [{ id: 'ent-1', name: 'Songbei Steel', exporter: undefined }],
          },
        ],
      },
      'table',
    );
    expect(text).toBe('enterprise:  ent-1\nname:        Songbei Steel\n');
  });

  it('says so when a list is empty, with titles above sections', () => {
    expect(
      render(
        {
          json: [],
          sections: [
            { title: 'first:', columns: [{ key: 'a' }], rows: [], empty: '(no meters)' },
            { title: 'second:', columns: [{ key: 'a' }], rows: [{ a: 'x\ny' }] },
          ],
        },
        'table',
      ),
    ).toBe('first:\n(no meters)\n\nsecond:\nA\nx y\n');
  });

  it('keeps line breaks inside cells on one line', () => {
    expect(renderTable({ columns: [{ key: 'reason' }], rows: [{ reason: 'a\r\nb' }] })).toBe(
      'REASON\na b\n',
    );
  });
});

describe('csv', () => {
  it('writes the headers as given and quotes what RFC 4180 asks to', () => {
    expect(
      renderCsv({
        columns: [{ key: 'a', header: 'meter' }, { key: 'b' }, { key: 'c' }, { key: 'd' }],
        rows: [
          { a: 'm-1', b: 'a,b', c: 'say "hi"', d: true },
          { a: ' lead', b: 'line\nbreak', c: undefined, d: 12n },
        ],
      }),
    ).toBe('meter,b,c,d\nm-1,"a,b","say ""hi""",true\n" lead","line\nbreak",,12\n');
  });

  it('prints the server-made CSV verbatim when a view has one, sections otherwise', () => {
    expect(render({ ...view, rawCsv: 'x,y\r\n1,2\r\n' }, 'csv')).toBe('x,y\r\n1,2\r\n');
    expect(render(view, 'csv')).toBe(
      'meter,role,rated kW,active\nm-1,grid_import,100,true\nmeter-long-2,onsite_pv,2500.5,false\nm-3,,,\n',
    );
  });

  it('separates sections with an empty line and never prints notes', () => {
    const two: View = {
      json: null,
      sections: [
        { columns: [{ key: 'a' }], rows: [{ a: 1 }] },
        { columns: [{ key: 'b' }], rows: [{ b: 2 }] },
      ],
      notes: ['not in csv'],
    };
    expect(render(two, 'csv')).toBe('a\n1\n\nb\n2\n');
  });
});

describe('json', () => {
  it('prints the json member with int64 values as strings, as proto3 JSON does', () => {
    expect(JSON.parse(render(view, 'json'))).toEqual([
      { meterId: 'm-1', ratedPowerKw: { value: '100' }, count: '3' },
    ]);
    expect(toJson({ a: 1 })).toBe('{\n  "a": 1\n}');
  });

  it('a table-only rendering (the bare token) does not change json', () => {
    const token: View = { json: { token: 't' }, sections: [], rawTable: 't\n' };
    expect(render(token, 'table')).toBe('t\n');
    expect(JSON.parse(render(token, 'json'))).toEqual({ token: 't' });
  });
});

describe('progress bar', () => {
  it('redraws one terminal line at most every 100 ms and ends it with the totals', () => {
    let clock = 0;
    let written = '';
    const bar = new ProgressBar(
      { write: (text) => void (written += text), isTTY: true, columns: 80 },
      { label: 'readings.csv ->', total: 2_000_000, now: () => clock },
    );
    bar.advance(500_000);
    clock = 50;
    bar.advance(500_000); // too soon: not drawn
    clock = 1000;
    bar.advance(1_000_000);
    bar.finish();
    const draws = written.split('\r').filter(Boolean);
    expect(draws).toHaveLength(3);
    expect(draws[0]).toContain(' 25%  500.0 kB / 2.0 MB');
    expect(draws[2]).toBe(
      `readings.csv -> [${'#'.repeat(20)}] 100%  2.0 MB / 2.0 MB  2.0 MB/s\x1b[K\n`,
    );
  });

  it('prints only the final line when stderr is not a terminal', () => {
    let written = '';
    const bar = new ProgressBar(
      { write: (text) => void (written += text) },
      { label: 'x', total: 10 },
    );
    bar.advance(4);
    bar.advance(6);
    bar.finish();
    expect(written).toMatch(/^x \[#+\] 100% {2}10 B \/ 10 B .*\n$/);
  });

  it('writes sizes in powers of 1000', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(52_428_800)).toBe('52.4 MB');
  });
});
