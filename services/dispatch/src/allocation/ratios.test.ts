import { ValidationError } from '@park/service-kit/errors';
import {
  allocateInterval,
  directLineRatios,
  type DirectLineRatioInput,
  type LineAllocation,
} from './index';

// Two intervals of line-1 (hand-computed in allocate.test.ts's terms):
//  09:00 local: line 100; A 0.6 consumes 50, B 0.4 consumes 80 -> A 60 capped at 50, B 40 + 10 =
//               50. Available generation 100.
//  09:15 local: line 80; A consumes 10 -> 10, B consumes 20 -> 20; left 50: stored 10 (meter 10),
//               exported 30 (meter 30), curtailed 10. Available generation 100.
// Period totals: available 200; allocated 50 + 50 + 10 + 20 = 130 (A 60, B 70); stored 10;
// exported 30; curtailed 10; metered 180.
function allocations(): LineAllocation[] {
  const base = { lineId: 'line-1', generatorId: 'pv-1' };
  return [
    allocateInterval({
      ...base,
      intervalStart: '2025-06-16T09:00:00+08:00',
      lineMeteredKwh: '100',
      consumers: [
        { enterpriseId: 'ent-a', priority: 1, share: '0.6', consumptionKwh: '50' },
        { enterpriseId: 'ent-b', priority: 1, share: '0.4', consumptionKwh: '80' },
      ],
    }),
    allocateInterval({
      ...base,
      intervalStart: '2025-06-16T09:15:00+08:00',
      lineMeteredKwh: '80',
      consumers: [
        { enterpriseId: 'ent-a', priority: 1, share: '0.6', consumptionKwh: '10' },
        { enterpriseId: 'ent-b', priority: 1, share: '0.4', consumptionKwh: '20' },
      ],
      storedKwh: '10',
      exportedKwh: '30',
    }),
  ];
}

function input(overrides: Partial<DirectLineRatioInput> = {}): DirectLineRatioInput {
  return {
    lineId: 'line-1',
    allocations: allocations(),
    availableGeneration: [
      // Same instants, written in UTC.
      { intervalStart: '2025-06-16T01:00:00Z', kwh: '100' },
      { intervalStart: '2025-06-16T01:15:00Z', kwh: '100' },
    ],
    // Each consumer's total consumption in the period, grid included.
    consumerConsumption: [
      { enterpriseId: 'ent-a', kwh: '200' },
      { enterpriseId: 'ent-b', kwh: '400' },
    ],
    ...overrides,
  };
}

describe('directLineRatios', () => {
  it('computes the shares against the default thresholds', () => {
    // Self-use 130 / 200 = 0.65 >= 0.6: met.
    // Feed-in 30 / 200 = 0.15 <= 0.2: met.
    // A: 60 / 200 = 0.3 >= 0.3: met (exactly on the threshold).
    // B: 70 / 400 = 0.175 < 0.3: not met. So the line as a whole is not.
    const result = directLineRatios(input());
    expect(result).toEqual({
      lineId: 'line-1',
      intervals: 2,
      availableGenerationKwh: '200',
      lineMeteredKwh: '180',
      allocatedKwh: '130',
      storedKwh: '10',
      exportedKwh: '30',
      curtailedKwh: '10',
      thresholds: { minSelfUseShare: '0.6', minConsumerShare: '0.3', maxFeedInShare: '0.2' },
      selfUse: { ratio: '0.65', threshold: '0.6', bound: 'min', met: true },
      feedIn: { ratio: '0.15', threshold: '0.2', bound: 'max', met: true },
      consumers: [
        {
          enterpriseId: 'ent-a',
          suppliedKwh: '60',
          consumptionKwh: '200',
          ratio: '0.3',
          threshold: '0.3',
          bound: 'min',
          met: true,
        },
        {
          enterpriseId: 'ent-b',
          suppliedKwh: '70',
          consumptionKwh: '400',
          ratio: '0.175',
          threshold: '0.3',
          bound: 'min',
          met: false,
        },
      ],
      met: false,
    });
  });

  it('takes configured thresholds', () => {
    // Self-use 0.65 < 0.7: not met. Feed-in 0.15 > 0.1: not met. B 0.175 >= 0.15: met.
    const result = directLineRatios(
      input({
        thresholds: { minSelfUseShare: '0.7', maxFeedInShare: '0.1', minConsumerShare: '0.15' },
      }),
    );
    expect(result.selfUse).toMatchObject({ threshold: '0.7', met: false });
    expect(result.feedIn).toMatchObject({ threshold: '0.1', met: false });
    expect(result.consumers.map((c) => c.met)).toEqual([true, true]);
    expect(result.met).toBe(false);
  });

  it('rounds a repeating ratio for display but decides met exactly', () => {
    // Available 150 + 150 = 300: self-use 130 / 300 = 0.43333333... -> "0.433333"; feed-in
    // 30 / 300 = 0.1. Threshold 0.4333333 is met (0.43333333... >= 0.4333333) although the rounded
    // "0.433333" is below it; 0.4333334 is not met.
    const available = [
      { intervalStart: '2025-06-16T01:00:00Z', kwh: '150' },
      { intervalStart: '2025-06-16T01:15:00Z', kwh: '150' },
    ];
    const above = directLineRatios(
      input({ availableGeneration: available, thresholds: { minSelfUseShare: '0.4333334' } }),
    );
    expect(above.selfUse).toEqual({
      ratio: '0.433333',
      threshold: '0.4333334',
      bound: 'min',
      met: false,
    });
    expect(above.feedIn.ratio).toBe('0.1');
    const below = directLineRatios(
      input({ availableGeneration: available, thresholds: { minSelfUseShare: '0.4333333' } }),
    );
    expect(below.selfUse.met).toBe(true);
  });

  it('reports a zero denominator as no ratio, met', () => {
    // A consumer of the line that consumed nothing and was supplied nothing.
    const result = directLineRatios(
      input({
        consumerConsumption: [
          { enterpriseId: 'ent-a', kwh: '200' },
          { enterpriseId: 'ent-b', kwh: '400' },
          { enterpriseId: 'ent-c', kwh: '0' },
        ],
      }),
    );
    expect(result.consumers[2]).toEqual({
      enterpriseId: 'ent-c',
      suppliedKwh: '0',
      consumptionKwh: '0',
      ratio: null,
      threshold: '0.3',
      bound: 'min',
      met: true,
    });
    const empty = directLineRatios(
      input({ allocations: [], availableGeneration: [], consumerConsumption: [] }),
    );
    expect(empty.selfUse).toEqual({ ratio: null, threshold: '0.6', bound: 'min', met: true });
    expect(empty.feedIn.ratio).toBeNull();
  });

  it('rejects inconsistent inputs, naming the field', () => {
    const fields = (overrides: Partial<DirectLineRatioInput>): string[] => {
      try {
        directLineRatios(input(overrides));
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).violations.map((v) => v.field);
      }
      throw new Error('expected a ValidationError');
    };
    expect(
      fields({
        availableGeneration: [
          { intervalStart: '2025-06-16T01:00:00Z', kwh: '99' },
          { intervalStart: '2025-06-16T02:00:00Z', kwh: '100' },
        ],
        consumerConsumption: [{ enterpriseId: 'ent-a', kwh: '59' }],
        thresholds: { maxFeedInShare: '1.2' },
      }),
    ).toEqual([
      'thresholds.max_feed_in_share',
      'available_generation[0].kwh',
      'available_generation[1].interval_start',
      'available_generation',
      'consumer_consumption[0].kwh',
      'consumer_consumption',
    ]);
    const twice = allocations();
    expect(fields({ allocations: [...twice, twice[0] as LineAllocation] })).toEqual([
      'allocations[2].interval_start',
    ]);
    expect(fields({ lineId: 'line-2' })).toEqual([
      'allocations[0].line_id',
      'allocations[1].line_id',
    ]);
  });
});
