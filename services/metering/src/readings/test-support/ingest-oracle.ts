import { Dec } from '@park/domain-primitives';
import type { ReadingResult } from '../model';
import { DAY_MS, decimalMeaning, QUARTER_MS, type GeneratedInstant } from './ingest-arbitraries';

/**
 * An independent model of what an interval meter (15 minutes) does with the readings of a batch,
 * written from the documented rules rather than from the decider: a reading is rejected unless
 * its interval start is an aligned instant whose interval ended within the late-data window and
 * not after now + the tolerance (nor after a decommissioning), it names a source (and neither
 * source nor reason holds a NUL character, which PostgreSQL text cannot store), it carries a
 * plain decimal value and no register, its unit converts to the meter's and it is not negative
 * (nor above 100 for a state of charge); the first reading of an interval in a batch counts, a
 * later one with the same quantity is a duplicate of it, with another one it is rejected; a value
 * already recorded or held is a duplicate, one above the spike limit is held, any other is
 * recorded (accepted the first time, corrected after). Quantities are 34-digit decimals: the
 * unit's scale, then the multiplier.
 */

export interface OracleReading {
  /** Not a reading at all (null in the batch). */
  absent?: boolean;
  instant: GeneratedInstant;
  value?: unknown;
  register?: unknown;
  unit: unknown;
  source: unknown;
  reason?: unknown;
}

export interface IntervalMeterRules {
  now: number;
  unit: string;
  /** The units that convert, with their factor to the meter's unit. */
  scales: Record<string, string>;
  multiplier: Dec;
  /** Above this (after the multiplier) a value is held. */
  spikeLimit?: Dec;
  stateOfCharge?: boolean;
  lateDataWindowDays?: number;
  futureToleranceMinutes?: number;
}

export interface Expected {
  status: ReadingResult['status'];
  /** Accepted and corrected: the interval's value after the multiplier. */
  value?: Dec;
}

export class IntervalMeterOracle {
  /** Measured values by interval start (epoch ms). */
  readonly measured = new Map<number, Dec>();
  /** Held values awaiting an operator, by interval start. */
  readonly held = new Map<number, Dec>();
  decommissionedAt: number | undefined;

  constructor(readonly rules: IntervalMeterRules) {}

  /** The answer for each reading of one batch, in order; the model moves on as the meter does. */
  ingest(readings: readonly OracleReading[]): Expected[] {
    const expected: Expected[] = [];
    const first = new Map<number, { index: number; quantity: Dec }>();
    const candidates: { index: number; start: number; quantity: Dec }[] = [];
    const repeats: { index: number; of: number }[] = [];
    readings.forEach((reading, index) => {
      const screened = this.screen(reading);
      if (!screened) {
        expected[index] = { status: 'rejected' };
        return;
      }
      const { start, quantity } = screened;
      const earlier = first.get(start);
      if (earlier === undefined) {
        first.set(start, { index, quantity });
        candidates.push({ index, start, quantity });
      } else if (earlier.quantity.eq(quantity)) {
        repeats.push({ index, of: earlier.index });
      } else {
        expected[index] = { status: 'rejected' };
      }
    });
    for (const { index, start, quantity } of candidates) {
      const held = this.held.get(start);
      const before = this.measured.get(start);
      const limit = this.rules.spikeLimit;
      if ((held && held.eq(quantity)) || (before && before.eq(quantity))) {
        expected[index] = { status: 'duplicate' };
      } else if (limit && quantity.gt(limit)) {
        this.held.set(start, quantity);
        expected[index] = { status: 'held' };
      } else {
        this.measured.set(start, quantity);
        this.held.delete(start);
        expected[index] = { status: before ? 'corrected' : 'accepted', value: quantity };
      }
    }
    // Interval values are never rejected once screened, so a repeat is always a duplicate.
    for (const { index } of repeats) expected[index] = { status: 'duplicate' };
    return expected;
  }

  private screen(reading: OracleReading): { start: number; quantity: Dec } | undefined {
    const rules = this.rules;
    if (reading.absent) return undefined;
    const start = reading.instant.epochMs;
    if (start === undefined || start % QUARTER_MS !== 0) return undefined;
    const end = start + QUARTER_MS;
    if (this.decommissionedAt !== undefined && end > this.decommissionedAt) return undefined;
    if (end > rules.now + (rules.futureToleranceMinutes ?? 5) * 60_000) return undefined;
    if (end < rules.now - (rules.lateDataWindowDays ?? 90) * DAY_MS) return undefined;
    if (typeof reading.source !== 'string' || reading.source.trim() === '') return undefined;
    // Texts are stored in PostgreSQL, whose text cannot hold NUL.
    if (reading.source.includes('\u0000')) return undefined;
    if (typeof reading.reason === 'string' && reading.reason.includes('\u0000')) return undefined;
    if (reading.register !== undefined) return undefined;
    const text = decimalMeaning(reading.value);
    if (text === undefined) return undefined;
    const unit = reading.unit;
    if (typeof unit !== 'string' || !Object.hasOwn(rules.scales, unit)) return undefined;
    const quantity = unit === rules.unit ? new Dec(text) : new Dec(text).times(rules.scales[unit]!);
    if (quantity.lt(0)) return undefined;
    if (rules.stateOfCharge && quantity.gt(100)) return undefined;
    return { start, quantity: quantity.times(rules.multiplier) };
  }
}
