import { Dec } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';
import fc from 'fast-check';
import {
  ALLOCATION_DECIMAL_PLACES,
  allocateInterval,
  type AllocationInput,
  type DirectLineConsumer,
  type LineAllocation,
} from './index';

/**
 * Green direct-line allocation under random lines (issue 10): whatever the metered energy,
 * consumers, priorities, shares, consumptions and storage/feed-in readings,
 *  - totals conserve: allocations + stored + exported + curtailed == line metered, exactly;
 *  - no stock is negative and nobody gets more than it consumed; stored and exported stay
 *    within their meters' readings;
 *  - priority: while a consumer is left short, nothing goes to a later priority, and nothing is
 *    stored, exported or curtailed;
 *  - pro rata within a group: the members left short all got the same kWh per unit of share
 *    (to the rounding of the final step), no more than a capped member's consumption per share;
 *  - the result depends neither on the order of the consumers nor on running it again;
 *  - with inputs of at most 6 decimals, every allocation has at most 6 decimals;
 *  - malformed inputs are answered with a ValidationError and nothing else.
 */

const SEED = 20_251_014;

/** kWh with up to `places` decimals, up to `max`; zero now and then. */
function kwh(max: number, places = 6): fc.Arbitrary<string> {
  const scale = 10 ** places;
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: max * scale }).map((n) => text(n, scale)) },
    { weight: 1, arbitrary: fc.constant('0') },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: max }).map(String) },
  );
}

function text(n: number, scale: number): string {
  return new Dec(n).div(scale).toFixed();
}

/** Contract shares in (0, 1]: tenths, thousandths and ten-thousandths. */
const share = fc.oneof(
  fc.integer({ min: 1, max: 10 }).map((n) => text(n, 10)),
  fc.integer({ min: 1, max: 1000 }).map((n) => text(n, 1000)),
  fc.integer({ min: 1, max: 10_000 }).map((n) => text(n, 10_000)),
);

function consumers(places: number): fc.Arbitrary<DirectLineConsumer[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 7 })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((id) =>
          fc.record({
            enterpriseId: fc.constant(`ent-${id}`),
            priority: fc.integer({ min: 1, max: 3 }),
            share,
            consumptionKwh: kwh(500, places),
          }),
        ),
      ),
    );
}

function lineArbitrary(places: number): fc.Arbitrary<AllocationInput> {
  return fc.record(
    {
      lineId: fc.constant('line-1'),
      generatorId: fc.constant('pv-1'),
      intervalStart: fc.constantFrom('2025-06-16T02:00:00+08:00', '2025-06-16T04:15:00Z'),
      lineMeteredKwh: kwh(2000, places),
      consumers: consumers(places),
      storedKwh: kwh(300, places),
      exportedKwh: kwh(300, places),
    },
    { requiredKeys: ['lineId', 'generatorId', 'intervalStart', 'lineMeteredKwh', 'consumers'] },
  );
}

const sum = (values: Dec[]) => values.reduce((total, v) => total.plus(v), new Dec(0));

function expectInvariants(input: AllocationInput, result: LineAllocation, places: number): void {
  const given = new Map(result.allocations.map((a) => [a.enterpriseId, new Dec(a.kwh)]));
  expect(result.allocations.map((a) => a.enterpriseId)).toEqual(
    input.consumers.map((c) => c.enterpriseId),
  );
  const [stored, exported, curtailed] = [
    new Dec(result.storedKwh),
    new Dec(result.exportedKwh),
    new Dec(result.curtailedKwh),
  ];
  const rest = stored.plus(exported).plus(curtailed);

  // Totals conserve, exactly.
  expect(
    sum([...given.values()])
      .plus(rest)
      .toFixed(),
  ).toBe(new Dec(input.lineMeteredKwh).toFixed());
  // No negative stocks, no more than consumed, stored and exported within their readings.
  for (const value of [stored, exported, curtailed]) expect(value.gte(0)).toBe(true);
  expect(stored.lte(input.storedKwh ?? '0')).toBe(true);
  expect(exported.lte(input.exportedKwh ?? '0')).toBe(true);
  for (const c of input.consumers) {
    const kwh = given.get(c.enterpriseId)!;
    expect(kwh.gte(0)).toBe(true);
    expect(kwh.lte(c.consumptionKwh)).toBe(true);
    if (places <= ALLOCATION_DECIMAL_PLACES) {
      expect(kwh.decimalPlaces()).toBeLessThanOrEqual(ALLOCATION_DECIMAL_PLACES);
    }
  }

  // Priority: someone short means nothing went further.
  for (const c of input.consumers) {
    if (!given.get(c.enterpriseId)!.lt(c.consumptionKwh)) continue;
    expect(rest.isZero()).toBe(true);
    for (const later of input.consumers.filter((o) => o.priority > c.priority)) {
      expect(given.get(later.enterpriseId)!.isZero()).toBe(true);
    }
  }

  // Pro rata within each group: one rate (kWh per unit of share) for the members left short,
  // and no capped member above it.
  for (const priority of new Set(input.consumers.map((c) => c.priority))) {
    const group = input.consumers.filter(
      (c) => c.priority === priority && new Dec(c.consumptionKwh).gt(0),
    );
    const short = group.filter((c) => given.get(c.enterpriseId)!.lt(c.consumptionKwh));
    if (short.length === 0) continue;
    const rate = sum(short.map((c) => given.get(c.enterpriseId)!)).div(
      sum(short.map((c) => new Dec(c.share))),
    );
    // The final step rounds each part to 6 decimals and hands the remainder (a few millionths,
    // at most one per member) to the largest shares.
    const tolerance = new Dec(group.length).times('1e-6').plus('1e-12');
    for (const c of short) {
      const expected = rate.times(c.share);
      expect(given.get(c.enterpriseId)!.minus(expected).abs().lte(tolerance)).toBe(true);
    }
    for (const c of group.filter((o) => !short.includes(o))) {
      expect(new Dec(c.consumptionKwh).lte(rate.times(c.share).plus(tolerance))).toBe(true);
    }
  }
}

describe('allocateInterval under random lines', () => {
  for (const places of [3, 6, 9]) {
    it(`conserves, caps, keeps priorities and shares with inputs of up to ${places} decimals`, () => {
      fc.assert(
        fc.property(lineArbitrary(places), fc.nat(), (input, rotation) => {
          const result = allocateInterval(input);
          expectInvariants(input, result, places);
          // Neither the order of the consumers nor running it again changes anything.
          expect(allocateInterval(input)).toEqual(result);
          const k = rotation % input.consumers.length;
          const reordered = [...input.consumers.slice(k), ...input.consumers.slice(0, k)].reverse();
          const again = allocateInterval({ ...input, consumers: reordered });
          const byId = (r: LineAllocation) =>
            Object.fromEntries(r.allocations.map((a) => [a.enterpriseId, a.kwh]));
          expect(byId(again)).toEqual(byId(result));
          expect({ ...again, allocations: [] }).toEqual({ ...result, allocations: [] });
        }),
        { seed: SEED, numRuns: 500 },
      );
    });
  }

  it('answers malformed inputs with a ValidationError and nothing else', () => {
    const junk = fc.oneof(
      fc.constantFrom<unknown>(
        undefined,
        null,
        '',
        ' ',
        '-1',
        '1e3',
        'NaN',
        'Infinity',
        '0x10',
        '1,5',
        7,
      ),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        lineArbitrary(6),
        fc.record({
          field: fc.constantFrom(
            'lineId',
            'generatorId',
            'intervalStart',
            'lineMeteredKwh',
            'storedKwh',
            'exportedKwh',
            'consumers',
            'enterpriseId',
            'priority',
            'share',
            'consumptionKwh',
          ),
          value: fc.oneof(junk, fc.constantFrom<unknown>(0, 1.5, -2, '2', [], {})),
          duplicate: fc.boolean(),
        }),
        (input, { field, value, duplicate }) => {
          const consumerFields = ['enterpriseId', 'priority', 'share', 'consumptionKwh'];
          const broken = consumerFields.includes(field)
            ? {
                ...input,
                consumers: [
                  { ...input.consumers[0]!, [field]: value },
                  ...input.consumers.slice(1),
                ],
              }
            : { ...input, [field]: value };
          if (duplicate && Array.isArray(broken.consumers)) {
            broken.consumers = [...broken.consumers, input.consumers[0]!];
          }
          try {
            const result = allocateInterval(broken as AllocationInput);
            // Accepted: it was valid after all (e.g. a share of "0.5" given as "0.5").
            expectInvariants(broken as AllocationInput, result, 9);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});
