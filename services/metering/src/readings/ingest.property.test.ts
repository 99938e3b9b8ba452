import fc from 'fast-check';
import { Dec, decimalText, instantText } from '@park/domain-primitives';
import { NotFoundError, PreconditionError } from '@park/service-kit/errors';
import type { RegisterMeter } from '../registry/meter-registration';
import { decideIngest, type IngestDecision } from './ingest';
import { createMeterDecider, evolveMeter, historyNeeded } from './meter';
import {
  DEFAULT_METER_OPTIONS,
  type IncomingReading,
  type IngestReadings,
  type MeterCommand,
  type MeterDeciderOptions,
  type MeterEvent,
  type MeterState,
  type ReadingResult,
  type RegisteredMeterState,
  type SlotHistory,
} from './model';
import { HistoryRequiredError } from './slot-book';
import {
  decimalMeaning,
  decimalTextArbitrary,
  instantArbitrary,
  plausibleDecimal,
  QUARTER_MS,
  unitArbitrary,
  withOffset,
  type GeneratedInstant,
} from './test-support/ingest-arbitraries';
import { IntervalMeterOracle, type IntervalMeterRules } from './test-support/ingest-oracle';
import {
  cumulativeMeter,
  intervalMeter,
  MeterScenario,
  q,
  reading,
  registerReading,
  T0,
} from './test-support/meter-scenario';

/**
 * Properties of the meter decider under random and malformed batches (issue 10): deciding never
 * throws, a rejected reading has no effect at all, a batch sent again changes nothing, no
 * negative (or, for a state of charge, above 100 %) value is ever recorded, interval meters
 * answer and store what an independent model of the rules says, and a cumulative meter's
 * interval values always add up to its register differences.
 *
 * The window is small (24 intervals) so that most batches reach behind it and the history
 * handshake of the adapter (historyNeeded, then HistoryRequiredError) is exercised too.
 */

const SEED = 20_251_010;
const NOW_K = 96 * 3;
const NOW_MS = T0 + NOW_K * QUARTER_MS;
const NOW = instantText(NOW_MS);
const OPTIONS: MeterDeciderOptions = { ...DEFAULT_METER_OPTIONS, recentWindowIntervals: 24 };
/** The read model: every interval, as the readings table holds it. */
const READ_MODEL: MeterDeciderOptions = { ...OPTIONS, recentWindowIntervals: 1_000_000 };
const decider = createMeterDecider(OPTIONS);

type Kind = 'interval' | 'unlimited' | 'soc' | 'cumulative';

const METERS: Record<Kind, RegisterMeter> = {
  // 100 kW over 15 minutes: more than 25 kWh is held as a spike.
  interval: intervalMeter,
  // No rated power (no spike check) and a CT multiplier.
  unlimited: { ...intervalMeter, meterId: 'm-unl', ratedPowerKw: undefined, multiplier: '2.5' },
  soc: {
    ...intervalMeter,
    meterId: 'm-soc',
    role: 'storage_soc',
    unit: '%',
    ratedPowerKw: undefined,
  },
  // Multiplier 40, rolls over at 100000, at most 5 register units (200 kWh) per interval.
  cumulative: cumulativeMeter,
};
const UNITS: Record<Kind, string[]> = {
  interval: ['kWh', 'kWh', 'kWh', 'MWh'],
  unlimited: ['kWh', 'kWh', 'MWh'],
  soc: ['%'],
  cumulative: ['kWh'],
};
/** What the independent model needs to know of each interval meter. */
function rulesOf(kind: Exclude<Kind, 'cumulative'>): IntervalMeterRules {
  const electricity = { kWh: '1', MWh: '1000' };
  switch (kind) {
    case 'interval':
      return {
        now: NOW_MS,
        unit: 'kWh',
        scales: electricity,
        multiplier: new Dec(1),
        spikeLimit: new Dec(25),
      };
    case 'unlimited':
      return { now: NOW_MS, unit: 'kWh', scales: electricity, multiplier: new Dec('2.5') };
    case 'soc':
      return {
        now: NOW_MS,
        unit: '%',
        scales: { '%': '1' },
        multiplier: new Dec(1),
        stateOfCharge: true,
      };
  }
}

// ---- generated batches ----

interface GeneratedReading {
  /** A broken client sending null instead of a reading. */
  absent: boolean;
  instant: GeneratedInstant;
  value?: unknown;
  register?: unknown;
  unit: unknown;
  source: unknown;
  reason?: unknown;
  /** A cumulative meter's true register (give or take a little). */
  truthful?: true;
}

const sourceArbitrary = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('gateway:gw-1', 'csv:upload-7', ' gateway:gw-2 ') },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', undefined, null, 7, 'gw\u0000nul') },
);
const reasonArbitrary = fc.option(fc.constantFrom('re-read', '', '  ', 42, 're\u0000read'), {
  nil: undefined,
});
/** Interval starts mostly near now, so that readings meet; far ones reach behind the window. */
const instants = instantArbitrary(T0, NOW_K - 40, NOW_K + 2);
const farInstants = instantArbitrary(T0, -8, NOW_K + 2);

/** A cumulative meter's true register at the end of interval k, k in [-8, NOW_K + 2]. */
type Truth = (k: number) => Dec;
const NO_TRUTH: Truth = () => new Dec(0);

function truthArbitrary(): fc.Arbitrary<Truth> {
  return fc
    .tuple(
      fc.constantFrom(new Dec(0), new Dec('1000.5'), new Dec(99_990)),
      // Quarter units: up to 6 register units per interval, above 5 is a spike.
      fc.array(fc.integer({ min: 0, max: 24 }), {
        minLength: NOW_K + 11,
        maxLength: NOW_K + 11,
      }),
    )
    .map(([base, increments]) => {
      const registers: Dec[] = [];
      let register = base;
      for (const quarter of increments) {
        register = register.plus(new Dec(quarter).div(4)).mod(100_000);
        registers.push(register);
      }
      return (k: number) => registers[k + 8] ?? new Dec(500);
    });
}

const at = (k: number) => T0 + k * QUARTER_MS;

/** A reading as a working gateway sends it (the true register, give or take a little). */
function cleanReading(kind: Kind, truth: Truth, k: number): fc.Arbitrary<GeneratedReading> {
  const instant = fc.constantFrom<GeneratedInstant>(
    { text: instantText(at(k)), epochMs: at(k) },
    { text: withOffset(at(k), 480), epochMs: at(k) },
  );
  const payload: fc.Arbitrary<Partial<GeneratedReading>> =
    kind === 'cumulative'
      ? fc.integer({ min: -12, max: 4 }).map((noise) => ({
          register: decimalText(truth(k).plus(Math.max(noise, 0))),
          truthful: true as const,
        }))
      : kind === 'soc'
        ? fc.integer({ min: 0, max: 1000 }).map((tenths) => ({ value: String(tenths / 10) }))
        : plausibleDecimal.map((value) => ({ value }));
  return fc.record({ instant, payload }).map((r) => ({
    absent: false,
    instant: r.instant,
    unit: METERS[kind].unit,
    source: 'gateway:gw-1',
    ...r.payload,
  }));
}

/** Anything: every field may be malformed, the reading itself may be null. */
function messyReading(kind: Kind, truth: Truth): fc.Arbitrary<GeneratedReading> {
  const decimals = decimalTextArbitrary();
  type Payload = (instant: GeneratedInstant) => Partial<GeneratedReading>;
  const payload: fc.Arbitrary<Payload> =
    kind === 'cumulative'
      ? fc.oneof(
          {
            weight: 6,
            arbitrary: fc.integer({ min: -12, max: 12 }).map((noise): Payload => (instant) => {
              const k = kStart(instant);
              const register = (k === undefined ? new Dec(700) : truth(k)).plus(
                noise > 8 ? noise - 8 : 0,
              );
              return { register: decimalText(register), truthful: true as const };
            }),
          },
          { weight: 3, arbitrary: decimals.map((register) => () => ({ register })) },
          { weight: 1, arbitrary: decimals.map((value) => () => ({ value })) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(decimals, decimals)
              .map(([register, value]) => () => ({ register, value })),
          },
        )
      : fc.oneof(
          {
            weight: 12,
            arbitrary: (kind === 'soc'
              ? decimalTextArbitrary(
                  fc.integer({ min: 0, max: 1050 }).map((tenths) => String(tenths / 10)),
                )
              : decimals
            ).map((value) => () => ({ value })),
          },
          { weight: 1, arbitrary: decimals.map((register) => () => ({ register })) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(decimals, decimals)
              .map(([value, register]) => () => ({ value, register })),
          },
        );
  return fc
    .record({
      instant: fc.oneof(instants, farInstants),
      payload,
      unit: unitArbitrary(UNITS[kind]),
      source: sourceArbitrary,
      reason: reasonArbitrary,
      nulls: fc.integer({ min: 0, max: 39 }),
    })
    .map(({ instant, payload: build, unit, source, reason, nulls }) => ({
      absent: nulls === 0,
      instant,
      unit,
      source,
      ...(reason !== undefined && { reason }),
      ...build(instant),
    }));
}

function kStart(instant: GeneratedInstant): number | undefined {
  if (instant.epochMs === undefined) return undefined;
  const k = (instant.epochMs - T0) / QUARTER_MS;
  return Number.isInteger(k) ? k : undefined;
}

/**
 * A batch: either clean and malformed readings at random intervals, or a run of consecutive
 * intervals with a few holes (which FillGaps may estimate). Some readings are sent twice (the
 * same or another value) to collide in the batch; a cumulative meter's batch may read its true
 * registers against another reference (an offset).
 */
function batchArbitrary(kind: Kind, truth: Truth): fc.Arbitrary<GeneratedReading[]> {
  const scattered = fc.array(
    fc.oneof(
      fc.integer({ min: NOW_K - 40, max: NOW_K - 1 }).chain((k) => cleanReading(kind, truth, k)),
      messyReading(kind, truth),
    ),
    { maxLength: 24 },
  );
  const run = fc
    .tuple(fc.integer({ min: NOW_K - 60, max: NOW_K - 1 }), fc.integer({ min: 1, max: 30 }))
    .chain(([from, length]) =>
      fc.tuple(
        ...Array.from({ length: Math.min(length, NOW_K - from) }, (_, i) =>
          fc.option(cleanReading(kind, truth, from + i), { freq: 5, nil: undefined }),
        ),
      ),
    )
    .map((readings) => readings.filter((r): r is GeneratedReading => r !== undefined));
  return fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: scattered }, { weight: 2, arbitrary: run }),
      fc.array(
        fc.record({
          index: fc.nat(),
          value: fc.option(decimalTextArbitrary(), { nil: undefined }),
        }),
        { maxLength: 6 },
      ),
      fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 4 })),
    )
    .map(([readings, echoes, offset]) => {
      const batch = readings.map((reading) =>
        reading.truthful && offset !== 0
          ? { ...reading, register: decimalText(new Dec(reading.register as string).plus(offset)) }
          : reading,
      );
      const originals = [...batch];
      for (const echo of echoes) {
        const original = originals[echo.index % Math.max(originals.length, 1)];
        if (!original) continue;
        const field = kind === 'cumulative' ? 'register' : 'value';
        batch.push(
          echo.value === undefined ? { ...original } : { ...original, [field]: echo.value },
        );
      }
      return batch;
    });
}

function toIncoming(reading: GeneratedReading): IncomingReading {
  if (reading.absent) return null as unknown as IncomingReading;
  const incoming: Record<string, unknown> = {
    intervalStart: reading.instant.text,
    unit: reading.unit,
    source: reading.source,
  };
  if ('value' in reading) incoming.value = reading.value;
  if ('register' in reading) incoming.register = reading.register;
  if ('reason' in reading) incoming.reason = reading.reason;
  return incoming as unknown as IncomingReading;
}

type Step =
  | { type: 'ingest'; readings: GeneratedReading[] }
  | { type: 'fill'; graceMinutes: number }
  | { type: 'decommission'; k: number };

function stepsArbitrary(kind: Kind, truth: Truth): fc.Arbitrary<Step[]> {
  return fc.array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: batchArbitrary(kind, truth).map((readings): Step => ({
          type: 'ingest',
          readings,
        })),
      },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(0, 60)
          .map((graceMinutes): Step => ({ type: 'fill', graceMinutes })),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: NOW_K - 96, max: NOW_K + 4 })
          .map((k): Step => ({ type: 'decommission', k })),
      },
    ),
    { minLength: 1, maxLength: 6 },
  );
}

// ---- the meter: its state, and its read model ----

class Meter {
  state: MeterState;
  /** Every interval (the readings table), for the adapter's history. */
  full: MeterState;

  constructor(readonly kind: Kind) {
    this.state = decider.initialState();
    this.full = decider.initialState();
    this.apply(decider.decide(METERS[kind], this.state));
  }

  get meterId(): string {
    return METERS[this.kind].meterId;
  }

  get readModel(): RegisteredMeterState {
    if (this.full.status === 'unregistered') throw new Error('not registered');
    return this.full;
  }

  apply(events: MeterEvent[]): void {
    for (const event of events) {
      // Through JSON, as the event store hands events back.
      const stored = JSON.parse(JSON.stringify(event)) as MeterEvent;
      this.state = evolveMeter(this.state, stored, OPTIONS);
      this.full = evolveMeter(this.full, stored, READ_MODEL);
    }
  }

  /** decideIngest as the adapter calls it: with the read model's rows it asks for. */
  decideIngest(readings: IncomingReading[]): IngestDecision {
    const command: IngestReadings = {
      type: 'IngestReadings',
      meterId: this.meterId,
      now: NOW,
      readings,
    };
    let wanted = historyNeeded(command, this.state);
    let history: SlotHistory | undefined;
    for (let round = 1; ; round++) {
      if (wanted.length > 0) {
        history = { ...history };
        for (const start of wanted) history[start] = this.readModel.slots[start] ?? null;
      }
      try {
        return decideIngest(history ? { ...command, history } : command, this.state, OPTIONS);
      } catch (error) {
        if (!(error instanceof HistoryRequiredError) || round >= 3) throw error;
        wanted = error.intervalStarts;
      }
    }
  }

  run(command: MeterCommand): void {
    this.apply(decider.decide(command, this.state));
  }
}

// ---- the checks ----

function expectWellFormed(results: ReadingResult[], count: number): void {
  expect(results).toHaveLength(count);
  results.forEach((result, index) => {
    expect(result).toBeDefined();
    expect(result.index).toBe(index);
    expect(['accepted', 'duplicate', 'corrected', 'held', 'rejected']).toContain(result.status);
    if (result.status === 'rejected') {
      expect(result.field).toMatch(/^(meter_id|readings\[\d+\]\.\w+)$/);
      expect(result.reason).not.toBe('');
    }
  });
}

/** Every value the events record is a plain decimal >= 0 (<= 100 for a state of charge). */
function expectNoNegativeValues(kind: Kind, events: MeterEvent[]): void {
  const values: string[] = [];
  for (const event of events) {
    if (event.type === 'ReadingsRecorded') {
      for (const r of event.readings) if (r.value !== undefined) values.push(r.value);
    } else if (event.type === 'ReadingCorrected') {
      values.push(event.newValue);
    } else if (event.type === 'ReadingsEstimated' || event.type === 'ReadingsHeld') {
      for (const r of event.readings) if (r.value !== undefined) values.push(r.value);
    }
  }
  for (const value of values) {
    expect(decimalMeaning(value)).toBe(value);
    expect(new Dec(value).gte(0)).toBe(true);
    if (kind === 'soc') expect(new Dec(value).lte(100)).toBe(true);
  }
}

/**
 * A cumulative meter's intervals add up: over any stretch a..b whose every interval has a value,
 * between two known registers, the values sum to the register difference times the multiplier
 * (modulo the rollover), whether they were measured or estimated.
 */
function expectRegistersConserved(meter: Meter): void {
  const slots = meter.readModel.slots;
  const starts = Object.keys(slots).sort();
  const modulus = new Dec(100_000).times(40);
  for (const from of starts) {
    const fromRegister = slots[from]!.register;
    if (fromRegister === undefined) continue;
    let sum = new Dec(0);
    for (let t = Date.parse(from) + QUARTER_MS; ; t += QUARTER_MS) {
      const slot = slots[instantText(t)];
      if (slot?.value === undefined) break;
      sum = sum.plus(slot.value);
      if (slot.register === undefined) continue;
      const expected = new Dec(slot.register).minus(fromRegister).times(40);
      if (!sum.minus(expected).mod(modulus).isZero()) {
        throw new Error(
          `values from ${from} to ${instantText(t)} sum to ${decimalText(sum)} kWh; the registers ` +
            `${fromRegister} -> ${slot.register} say ${decimalText(expected)} (mod ${decimalText(modulus)})`,
        );
      }
    }
  }
}

/** The read model's measured values of an interval meter. */
function measuredValues(meter: Meter): Map<number, string> {
  const values = new Map<number, string>();
  for (const [start, slot] of Object.entries(meter.readModel.slots)) {
    if (slot.quality === 'measured' && slot.value !== undefined) {
      values.set(Date.parse(start), slot.value);
    }
  }
  return values;
}

function runSteps(kind: Kind, steps: Step[]): void {
  const meter = new Meter(kind);
  const oracle = kind === 'cumulative' ? undefined : new IntervalMeterOracle(rulesOf(kind));
  for (const step of steps) {
    if (step.type === 'fill') {
      meter.run({
        type: 'FillGaps',
        meterId: meter.meterId,
        now: NOW,
        graceDelayMinutes: step.graceMinutes,
      });
    } else if (step.type === 'decommission') {
      if (meter.state.status === 'decommissioned') continue;
      const at = T0 + step.k * QUARTER_MS;
      meter.run({ type: 'DecommissionMeter', meterId: meter.meterId, at: instantText(at) });
      if (oracle) oracle.decommissionedAt = at;
    } else {
      checkBatch(meter, oracle, step.readings);
    }
    if (kind === 'cumulative') expectRegistersConserved(meter);
  }
}

function checkBatch(
  meter: Meter,
  oracle: IntervalMeterOracle | undefined,
  generated: GeneratedReading[],
): void {
  const kind = meter.kind;
  const readings = generated.map(toIncoming);
  // 1. Never throws, and answers every reading in order.
  const decision = meter.decideIngest(readings);
  expectWellFormed(decision.results, readings.length);
  expectNoNegativeValues(kind, decision.events);

  // 2. A rejected reading has no effect: the batch without them decides the same events and
  //    answers the others alike.
  const kept = decision.results.filter((r) => r.status !== 'rejected').map((r) => r.index);
  const withoutRejected = meter.decideIngest(kept.map((index) => readings[index]!));
  expect(withoutRejected.events).toEqual(decision.events);
  expect(withoutRejected.results.map((r) => ({ ...r, index: kept[r.index] }))).toEqual(
    kept.map((index) => decision.results[index]),
  );

  // 3. Interval meters: the answers and values the rules give.
  if (oracle) {
    const expected = oracle.ingest(generated);
    expect(decision.results.map((r) => r.status)).toEqual(expected.map((e) => e.status));
    decision.results.forEach((result, index) => {
      const value = expected[index]!.value;
      if (result.status === 'accepted') expect(result.value).toBe(decimalText(value!));
      if (result.status === 'corrected') expect(result.newValue).toBe(decimalText(value!));
    });
  }

  meter.apply(decision.events);
  if (oracle) {
    expect(measuredValues(meter)).toEqual(
      new Map([...oracle.measured].map(([start, value]) => [start, decimalText(value)])),
    );
  }

  // 4. The same batch again changes nothing: every reading that was not rejected is now a
  //    duplicate, and the rejected ones are rejected again.
  const again = meter.decideIngest(readings);
  expect(again.events).toEqual([]);
  expect(again.results.map((r) => r.status)).toEqual(
    decision.results.map((r) => (r.status === 'rejected' ? 'rejected' : 'duplicate')),
  );
}

describe('IngestReadings under random and malformed batches', () => {
  for (const kind of ['interval', 'unlimited', 'soc', 'cumulative'] as const) {
    it(`${kind} meter: never throws, rejected readings have no effect, resending is a no-op${
      kind === 'cumulative' ? ', values add up to registers' : ', answers as the rules say'
    }`, () => {
      fc.assert(
        fc.property(
          (kind === 'cumulative' ? truthArbitrary() : fc.constant(NO_TRUTH)).chain((truth) =>
            stepsArbitrary(kind, truth),
          ),
          (steps) => runSteps(kind, steps),
        ),
        { seed: SEED, numRuns: 100 },
      );
    });
  }

  it('answers an unknown meter or another meter stream with a domain error, not a crash', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('interval', 'cumulative'),
        fc.oneof(fc.constantFrom('', 'm-other', ' m-int', '__proto__'), fc.string()),
        batchArbitrary('interval', NO_TRUTH),
        (kind, meterId, generated) => {
          fc.pre(meterId !== METERS[kind].meterId);
          const command: IngestReadings = {
            type: 'IngestReadings',
            meterId,
            now: NOW,
            readings: generated.map(toIncoming),
          };
          const registered = new Meter(kind).state;
          for (const state of [decider.initialState(), registered]) {
            let error: unknown;
            try {
              decideIngest(command, state, OPTIONS);
            } catch (caught) {
              error = caught;
            }
            expect(error instanceof NotFoundError || error instanceof PreconditionError).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  });
});

// The counterexamples the properties found, kept as examples (the fixes are in
// meter-registration.ts toMeterUnit, ingest.ts decideIngest and meter-context.ts derive).
describe('counterexamples found by the properties', () => {
  const now = q(12);

  it('rejects a unit named like an object property instead of throwing', () => {
    const scenario = new MeterScenario(intervalMeter);
    const { results, events } = scenario.whenIngest(now, [
      reading(0, '1', { unit: 'toString' }),
      reading(1, '1', { unit: 'constructor' }),
      reading(2, '1', { unit: '__proto__' }),
      reading(3, '1', { unit: 'hasOwnProperty' }),
    ]);
    expect(results.map((r) => [r.status, r.status === 'rejected' && r.field])).toEqual([
      ['rejected', 'readings[0].unit'],
      ['rejected', 'readings[1].unit'],
      ['rejected', 'readings[2].unit'],
      ['rejected', 'readings[3].unit'],
    ]);
    expect(events).toEqual([]);
  });

  it('answers a repeat of a rejected register in the same batch as rejected, not duplicate', () => {
    // q(1)'s stored register 0 makes 1349 at q(0) an implausible rollover for the next interval.
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(now, [
      registerReading(1, '0'),
    ]);
    const { results, events } = scenario.whenIngest(now, [
      registerReading(0, '1349'),
      registerReading(0, '1349'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results[1]).toMatchObject({
      field: 'readings[1].register',
      reason: (results[0] as { reason: string }).reason,
    });
    expect(events).toEqual([]);
  });

  it('checks a register against the next register of the same batch, so a resend is a no-op', () => {
    // Stored: 0 at the end of q(1). The batch reads 791.5 for q(0) and 796.75 for q(1): checked
    // against the stored 0, 791.5 would be an implausible rollover; against the batch's own
    // 796.75 it is 5.25 units = 210 kWh for q(1), above the meter's 200 kWh: held.
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(now, [
      registerReading(1, '0'),
    ]);
    const batch = [registerReading(0, '791.5'), registerReading(1, '796.75')];
    const first = scenario.whenIngest(now, batch);
    expect(first.results.map((r) => r.status)).toEqual(['held', 'corrected']);
    const again = scenario.whenIngest(now, batch);
    expect(again.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(again.events).toEqual([]);
  });

  it('never derives a negative value from a register above the rollover value', () => {
    // The register wraps at 100000: 1e20 cannot be read, and no rollover leads from it to 1793.5.
    const scenario = new MeterScenario({ ...cumulativeMeter, ratedPowerKw: undefined });
    scenario.whenIngest(now, [registerReading(0, '100000000000000000000')]);
    const { results, events } = scenario.whenIngest(now, [registerReading(1, '1793.5')]);
    expect(results[0]).toMatchObject({
      status: 'rejected',
      field: 'readings[0].register',
      reason: expect.stringContaining('rolls over at 100000'),
    });
    expect(events).toEqual([]);
  });
});
