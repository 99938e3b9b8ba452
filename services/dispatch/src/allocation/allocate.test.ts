import { Dec } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';
import { allocateInterval, type AllocationInput, type DirectLineConsumer } from './index';

const START = '2025-06-16T02:00:00+08:00';

function line(
  lineMeteredKwh: string,
  consumers: DirectLineConsumer[],
  extra: Partial<AllocationInput> = {},
): AllocationInput {
  return {
    lineId: 'line-1',
    generatorId: 'pv-1',
    intervalStart: START,
    lineMeteredKwh,
    consumers,
    ...extra,
  };
}

function consumer(
  enterpriseId: string,
  priority: number,
  share: string,
  consumptionKwh: string,
): DirectLineConsumer {
  return { enterpriseId, priority, share, consumptionKwh };
}

/** allocations + stored + exported + curtailed, exactly. */
function accountedFor(result: ReturnType<typeof allocateInterval>): string {
  return result.allocations
    .reduce((total, a) => total.plus(a.kwh), new Dec(0))
    .plus(result.storedKwh)
    .plus(result.exportedKwh)
    .plus(result.curtailedKwh)
    .toFixed();
}

function kwhOf(result: ReturnType<typeof allocateInterval>): Record<string, string> {
  return Object.fromEntries(result.allocations.map((a) => [a.enterpriseId, a.kwh]));
}

describe('allocateInterval: priority', () => {
  it('serves priority 1 all it consumes and gives priority 2 the rest', () => {
    // Line 100 kWh. A (priority 1) consumes 70: A = 70. B (priority 2) consumes 50 and gets
    // what is left: 100 - 70 = 30 (< 50, so B is not capped). Nothing remains: 70 + 30 = 100.
    const result = allocateInterval(
      line('100', [consumer('ent-b', 2, '0.5', '50'), consumer('ent-a', 1, '0.5', '70')]),
    );
    expect(result).toEqual({
      lineId: 'line-1',
      generatorId: 'pv-1',
      intervalStart: '2025-06-15T18:00:00.000Z',
      lineMeteredKwh: '100',
      allocations: [
        { enterpriseId: 'ent-b', kwh: '30' },
        { enterpriseId: 'ent-a', kwh: '70' },
      ],
      storedKwh: '0',
      exportedKwh: '0',
      curtailedKwh: '0',
    });
    expect(accountedFor(result)).toBe('100');
  });

  it('records what both priorities leave as stored, then exported, then curtailed', () => {
    // Line 100 kWh. A (priority 1) consumes 30 -> 30; B (priority 2) consumes 40 -> 40.
    // Left: 100 - 30 - 40 = 30. Stored up to the storage meter's 10 -> 10, left 20; exported up
    // to the feed-in meter's 15 -> 15, left 5; curtailed 5. 30 + 40 + 10 + 15 + 5 = 100.
    const result = allocateInterval(
      line('100', [consumer('ent-a', 1, '0.5', '30'), consumer('ent-b', 2, '0.5', '40')], {
        storedKwh: '10',
        exportedKwh: '15',
      }),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '30', 'ent-b': '40' });
    expect(result).toMatchObject({ storedKwh: '10', exportedKwh: '15', curtailedKwh: '5' });
    expect(accountedFor(result)).toBe('100');
  });

  it('gives priority 2 nothing when priority 1 takes the whole line', () => {
    // Line 12.5 kWh; A (priority 1) consumes 20 -> 12.5, B (priority 2) -> 0 (zero entry kept).
    const result = allocateInterval(
      line('12.5', [consumer('ent-a', 1, '0.7', '20'), consumer('ent-b', 2, '0.3', '5')]),
    );
    expect(result.allocations).toEqual([
      { enterpriseId: 'ent-a', kwh: '12.5' },
      { enterpriseId: 'ent-b', kwh: '0' },
    ]);
    expect(result).toMatchObject({ storedKwh: '0', exportedKwh: '0', curtailedKwh: '0' });
  });

  it('records stored and exported only up to what the consumers leave', () => {
    // Line 50; A consumes 45 -> 45; left 5: storage meter says 8 -> stored 5, exported 0 (of 3).
    const result = allocateInterval(
      line('50', [consumer('ent-a', 1, '1', '45')], { storedKwh: '8', exportedKwh: '3' }),
    );
    expect(result).toMatchObject({ storedKwh: '5', exportedKwh: '0', curtailedKwh: '0' });
    expect(accountedFor(result)).toBe('50');
  });
});

describe('allocateInterval: pro rata', () => {
  it('shares 0.6/0.4 when neither is capped', () => {
    // Line 100; A 0.6, B 0.4, same priority; A consumes 70, B 80.
    // A = 100 x 0.6 / (0.6 + 0.4) = 60 <= 70; B = 100 x 0.4 / 1 = 40 <= 80. 60 + 40 = 100.
    const result = allocateInterval(
      line('100', [consumer('ent-a', 1, '0.6', '70'), consumer('ent-b', 1, '0.4', '80')]),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '60', 'ent-b': '40' });
    expect(result.curtailedKwh).toBe('0');
  });

  it('caps a consumer at its consumption and gives the excess to the other', () => {
    // Line 100; A 0.6 consumes 50, B 0.4 consumes 80.
    // Pro rata A = 60 > 50: A is capped at 50, the excess 60 - 50 = 10 goes to B: B = 40 + 10 =
    // 50 (<= 80). A + B = 100, nothing left.
    const result = allocateInterval(
      line('100', [consumer('ent-a', 1, '0.6', '50'), consumer('ent-b', 1, '0.4', '80')]),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '50', 'ent-b': '50' });
    expect(result).toMatchObject({ storedKwh: '0', exportedKwh: '0', curtailedKwh: '0' });
    expect(accountedFor(result)).toBe('100');
  });

  it('caps both and records the remainder as stored, exported and curtailed', () => {
    // Line 100; A 0.6 consumes 30, B 0.4 consumes 20: together 50 <= 100, both fully served.
    // Left 50: stored 20 (meter 20), exported 25 (meter 25), curtailed 50 - 20 - 25 = 5.
    const result = allocateInterval(
      line('100', [consumer('ent-a', 1, '0.6', '30'), consumer('ent-b', 1, '0.4', '20')], {
        storedKwh: '20',
        exportedKwh: '25',
      }),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '30', 'ent-b': '20' });
    expect(result).toMatchObject({ storedKwh: '20', exportedKwh: '25', curtailedKwh: '5' });
    expect(accountedFor(result)).toBe('100');
  });

  it('re-distributes iteratively until nobody is above its consumption', () => {
    // Line 90; A 0.5 consumes 10, B 0.3 consumes 40, C 0.2 consumes 100.
    // Round 1 (shares 1.0): A 45 > 10 capped at 10. Left 80.
    // Round 2 (B + C, shares 0.5): B = 80 x 0.3 / 0.5 = 48 > 40 capped at 40. Left 40.
    // Round 3 (C alone): C = 40 <= 100. 10 + 40 + 40 = 90.
    const result = allocateInterval(
      line('90', [
        consumer('ent-a', 1, '0.5', '10'),
        consumer('ent-b', 1, '0.3', '40'),
        consumer('ent-c', 1, '0.2', '100'),
      ]),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '10', 'ent-b': '40', 'ent-c': '40' });
    expect(accountedFor(result)).toBe('90');
  });

  it('sums exactly with repeating decimals: the rounding remainder goes to the largest share', () => {
    // Line 10; shares 0.4, 0.3, 0.2 (sum 0.9), all consume 100.
    // A = 10 x 0.4 / 0.9 = 4.4444... -> 4.444444; B = 10 x 0.3 / 0.9 = 3.3333... -> 3.333333;
    // C = 10 x 0.2 / 0.9 = 2.2222... -> 2.222222. Sum 9.999999; remainder 0.000001 to the largest
    // share A: 4.444445. 4.444445 + 3.333333 + 2.222222 = 10.
    const result = allocateInterval(
      line('10', [
        consumer('ent-c', 1, '0.2', '100'),
        consumer('ent-a', 1, '0.4', '100'),
        consumer('ent-b', 1, '0.3', '100'),
      ]),
    );
    expect(kwhOf(result)).toEqual({
      'ent-a': '4.444445',
      'ent-b': '3.333333',
      'ent-c': '2.222222',
    });
    expect(accountedFor(result)).toBe('10');
  });

  it('sums exactly with shares of 1/3, remainders either way, ties broken by enterprise id', () => {
    // Shares 1/3 each (0.333333): each part is line / 3.
    // Line 10: 3.3333... -> 3.333333 x 3 = 9.999999, remainder +0.000001 to the first id "ent-a"
    // (equal shares): 3.333334 + 3.333333 + 3.333333 = 10.
    const third = '0.333333';
    const consumers = [
      consumer('ent-c', 1, third, '5'),
      consumer('ent-a', 1, third, '5'),
      consumer('ent-b', 1, third, '5'),
    ];
    const ten = allocateInterval(line('10', consumers));
    expect(kwhOf(ten)).toEqual({ 'ent-a': '3.333334', 'ent-b': '3.333333', 'ent-c': '3.333333' });
    expect(accountedFor(ten)).toBe('10');
    // Line 14 (each consumes 5, 15 in all > 14): 4.6666... -> 4.666667 x 3 = 14.000001,
    // remainder -0.000001 taken from "ent-a": 4.666666 + 4.666667 + 4.666667 = 14.
    const fourteen = allocateInterval(line('14', consumers));
    expect(kwhOf(fourteen)).toEqual({
      'ent-a': '4.666666',
      'ent-b': '4.666667',
      'ent-c': '4.666667',
    });
    expect(accountedFor(fourteen)).toBe('14');
  });

  it('keeps a remainder within consumption when inputs carry more than 6 decimals', () => {
    // Line 2.4691336, shares 0.5/0.5: each part 1.2345668. A consumes 1.2345669 (not capped:
    // 1.2345668 < 1.2345669). Rounded parts: A 1.234567 -> above its consumption, held at
    // 1.2345669; B 1.234567. Sum 2.4691339, remainder -0.0000003 taken from the first of the
    // equal shares, A: 1.2345666. 1.2345666 + 1.234567 = 2.4691336; A <= 1.2345669.
    const result = allocateInterval(
      line('2.4691336', [
        consumer('ent-a', 1, '0.5', '1.2345669'),
        consumer('ent-b', 1, '0.5', '10'),
      ]),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '1.2345666', 'ent-b': '1.234567' });
    expect(accountedFor(result)).toBe('2.4691336');
  });

  it('serves the priority group before sharing the rest pro rata in the next', () => {
    // Line 100; A priority 1 consumes 40 -> 40. Left 60 for B 0.6 (consumes 100) and C 0.4
    // (consumes 100), priority 2: B = 60 x 0.6 = 36, C = 60 x 0.4 = 24. 40 + 36 + 24 = 100.
    const result = allocateInterval(
      line('100', [
        consumer('ent-a', 1, '1', '40'),
        consumer('ent-b', 2, '0.6', '100'),
        consumer('ent-c', 2, '0.4', '100'),
      ]),
    );
    expect(kwhOf(result)).toEqual({ 'ent-a': '40', 'ent-b': '36', 'ent-c': '24' });
  });
});

describe('allocateInterval: invariants', () => {
  // A deterministic pseudo-random sweep (linear congruential generator) over lines, priorities,
  // shares and consumptions with up to 3 decimals.
  let seed = 20250616;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const amount = (max: number): string => (next(max * 1000) / 1000).toFixed(3);

  it('never goes beyond consumption, serves priorities in order and sums exactly', () => {
    for (let round = 0; round < 300; round++) {
      const consumers = Array.from({ length: 1 + next(5) }, (_, i) =>
        consumer(`ent-${i}`, 1 + next(3), (0.05 + next(95) / 100).toFixed(2), amount(60)),
      );
      const input = line(amount(150), consumers, {
        storedKwh: amount(30),
        exportedKwh: amount(30),
      });
      const result = allocateInterval(input);
      expect(accountedFor(result)).toBe(new Dec(input.lineMeteredKwh).toFixed());
      const given = new Map(result.allocations.map((a) => [a.enterpriseId, new Dec(a.kwh)]));
      for (const c of consumers) {
        const kwh = given.get(c.enterpriseId) as Dec;
        expect(kwh.gte(0) && kwh.lte(c.consumptionKwh)).toBe(true);
        // Someone left short means nothing was left over, and nobody of a later priority got any.
        if (kwh.lt(c.consumptionKwh)) {
          expect(
            new Dec(result.storedKwh).plus(result.exportedKwh).plus(result.curtailedKwh).isZero(),
          ).toBe(true);
          for (const later of consumers.filter((o) => o.priority > c.priority)) {
            expect((given.get(later.enterpriseId) as Dec).isZero()).toBe(true);
          }
        }
      }
      for (const field of ['storedKwh', 'exportedKwh', 'curtailedKwh'] as const) {
        expect(new Dec(result[field]).gte(0)).toBe(true);
      }
    }
  });
});

describe('allocateInterval: validation', () => {
  function violations(input: unknown): string[] {
    try {
      allocateInterval(input as AllocationInput);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).violations.map((v) => v.field);
    }
    throw new Error('expected a ValidationError');
  }

  it('names every bad field', () => {
    expect(
      violations({
        lineId: ' ',
        generatorId: 'pv-1',
        intervalStart: '2025-06-16 02:00',
        lineMeteredKwh: '-1',
        storedKwh: '1e3',
        consumers: [
          consumer('ent-a', 0, '0.6', '1'),
          consumer('ent-a', 1, '1.5', 'x'),
          { enterpriseId: 'ent-c', priority: 1.5, share: '0', consumptionKwh: '-2' },
        ],
      }),
    ).toEqual([
      'line_id',
      'interval_start',
      'line_metered_kwh',
      'stored_kwh',
      'consumers[0].priority',
      'consumers[1].enterprise_id',
      'consumers[1].share',
      'consumers[1].consumption_kwh',
      'consumers[2].priority',
      'consumers[2].share',
      'consumers[2].consumption_kwh',
    ]);
  });

  it('asks for at least one consumer', () => {
    expect(violations(line('1', []))).toEqual(['consumers']);
  });
});
