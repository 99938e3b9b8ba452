import { aggregateSeries, type SeriesPoint } from './aggregate';

const point = (
  intervalStart: string,
  value: string,
  quality: SeriesPoint['quality'] = 'measured',
) => ({
  intervalStart,
  value,
  quality,
});

describe('series in the park`s local calendar', () => {
  // Asia/Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before.
  const aroundMidnight = [
    point('2025-03-10T15:30:00Z', '1.1'), // 23:30 on 10 March local
    point('2025-03-10T15:45:00Z', '2.2', 'estimated'), // 23:45 on 10 March
    point('2025-03-10T16:00:00Z', '3.3'), // 00:00 on 11 March
    point('2025-03-10T16:15:00Z', '4.4', 'edited'), // 00:15 on 11 March
  ];

  it('puts readings on both sides of local midnight into their own local days', () => {
    expect(
      aggregateSeries(aroundMidnight, { resolution: 'day', timeZone: 'Asia/Shanghai' }),
    ).toEqual([
      {
        start: '2025-03-09T16:00:00.000Z',
        end: '2025-03-10T16:00:00.000Z',
        value: '3.3', // 1.1 + 2.2
        intervals: 2,
        quality: { measured: 1, estimated: 1, edited: 0 },
      },
      {
        start: '2025-03-10T16:00:00.000Z',
        end: '2025-03-11T16:00:00.000Z',
        value: '7.7', // 3.3 + 4.4
        intervals: 2,
        quality: { measured: 1, estimated: 0, edited: 1 },
      },
    ]);
  });

  it('would cut the same readings at UTC midnight in another zone: the zone matters', () => {
    const utc = aggregateSeries(aroundMidnight, { resolution: 'day', timeZone: 'UTC' });
    expect(utc).toEqual([
      expect.objectContaining({ start: '2025-03-10T00:00:00.000Z', value: '11' }), // 1.1+2.2+3.3+4.4
    ]);
  });

  it('sums exactly where binary floats would not', () => {
    const tenths = Array.from({ length: 10 }, (_, k) =>
      point(new Date(Date.UTC(2025, 2, 10, 0, k * 15)).toISOString(), '0.1'),
    );
    // 0.1 added ten times is 0.9999999999999999 in floats; as decimals it is 1.
    expect(aggregateSeries(tenths, { resolution: 'day' })[0]!.value).toBe('1');
  });

  it('sums hours on the local clock, which starts at :30 UTC in India', () => {
    const points = [
      point('2025-03-10T00:15:00Z', '1'), // 05:45 local
      point('2025-03-10T00:30:00Z', '2'), // 06:00 local
      point('2025-03-10T01:15:00Z', '3'), // 06:45 local
    ];
    expect(
      aggregateSeries(points, { resolution: 'hour', timeZone: 'Asia/Kolkata' }).map((b) => [
        b.start,
        b.value,
      ]),
    ).toEqual([
      ['2025-03-09T23:30:00.000Z', '1'], // 05:00-06:00 local = 23:30-00:30 UTC (UTC+5:30)
      ['2025-03-10T00:30:00.000Z', '5'], // 06:00-07:00 local = 00:30-01:30 UTC: 2 + 3
    ]);
  });

  it('closes months at local midnight of the 1st', () => {
    const points = [
      point('2025-03-31T15:45:00Z', '5'), // 23:45 on 31 March local
      point('2025-03-31T16:00:00Z', '7'), // 00:00 on 1 April local
    ];
    expect(
      aggregateSeries(points, { resolution: 'month', timeZone: 'Asia/Shanghai' }).map((b) => [
        b.start,
        b.end,
        b.value,
      ]),
    ).toEqual([
      ['2025-02-28T16:00:00.000Z', '2025-03-31T16:00:00.000Z', '5'],
      ['2025-03-31T16:00:00.000Z', '2025-04-30T16:00:00.000Z', '7'],
    ]);
  });

  it('averages a state of charge instead of adding it up', () => {
    const soc = [
      point('2025-03-10T00:00:00Z', '40'),
      point('2025-03-10T00:15:00Z', '50'),
      point('2025-03-10T00:30:00Z', '50'),
    ];
    // (40 + 50 + 50) / 3 = 46.666666... -> 46.666667
    expect(aggregateSeries(soc, { resolution: 'hour', aggregation: 'mean' })[0]!.value).toBe(
      '46.666667',
    );
  });
});
