import { Dec, decimalText, instantText, parseInstant } from '@park/domain-primitives';
import { descriptorOf, spikeLimit, type MeterDescriptor } from '../registry/meter-registration';
import { intervalGrid, type IntervalGrid } from './interval-grid';
import type { MeterDeciderOptions, RegisteredMeterState, Replacement, SlotState } from './model';
import { SlotBook } from './slot-book';

/** A register reading and whether an operator, not the meter, stands behind it. */
export interface RegisterValue {
  register: Dec;
  edited: boolean;
}

export type Derivation =
  | { kind: 'unknown' }
  | { kind: 'value'; value: Dec; quality: 'measured' | 'edited' }
  | { kind: 'invalid'; reason: string };

/** The multiplier and rollover value of one physical meter (Dec is immutable: shared safely). */
export interface MeterRules {
  multiplier: Dec;
  registerMaximum?: Dec;
}

/** What every decision on a registered meter works with. */
export class MeterContext {
  readonly grid: IntervalGrid;
  readonly descriptor: MeterDescriptor;
  readonly limit: Dec | undefined;
  readonly cumulative: boolean;

  constructor(
    readonly meter: RegisteredMeterState,
    readonly book: SlotBook,
    readonly options: MeterDeciderOptions,
  ) {
    this.grid = intervalGrid(meter.registration);
    this.descriptor = descriptorOf(meter.registration);
    this.limit = spikeLimit(meter.registration);
    this.cumulative = meter.registration.registerType === 'cumulative';
  }

  get unit(): string {
    return this.meter.registration.unit;
  }

  /** The multiplier and rollover value of the physical meter that measured this interval. */
  rulesAt(intervalStart: number): MeterRules {
    const rules = this.rulesByInstallation();
    let current = rules[0]!.rules;
    for (let i = 1; i < rules.length && rules[i]!.from <= intervalStart; i++) {
      current = rules[i]!.rules;
    }
    return current;
  }

  private installedRules: { from: number; rules: MeterRules }[] | undefined;

  /** The registration's rules, then each replacement's from its instant: parsed once per decision. */
  private rulesByInstallation(): { from: number; rules: MeterRules }[] {
    if (this.installedRules) return this.installedRules;
    const rulesOf = (multiplier: string, registerMaximum: string | undefined): MeterRules => ({
      multiplier: new Dec(multiplier),
      ...(registerMaximum !== undefined && { registerMaximum: new Dec(registerMaximum) }),
    });
    const { registration, replacements } = this.meter;
    this.installedRules = [
      {
        from: -Infinity,
        rules: rulesOf(registration.multiplier, registration.registerMaximum),
      },
      ...replacements.map((replacement) => ({
        from: parseInstant(replacement.at)!,
        rules: rulesOf(replacement.multiplier, replacement.registerMaximum),
      })),
    ];
    return this.installedRules;
  }

  replacementAt(intervalStart: number): Replacement | undefined {
    const at = instantText(intervalStart);
    return this.meter.replacements.find((replacement) => replacement.at === at);
  }

  /**
   * The register an interval starts from: the previous interval's end register, or, at a meter
   * replacement, the new meter's first register (the old meter's final one closed the interval
   * before). Undefined when not known (yet). `peek` makes an interval behind the window that the
   * command did not bring unknown instead of an error, for work that can wait (re-estimation).
   */
  startRegister(intervalStart: number, lookup: 'get' | 'peek' = 'get'): RegisterValue | undefined {
    const replacement = this.replacementAt(intervalStart);
    if (replacement?.newFirstRegister !== undefined) {
      return { register: new Dec(replacement.newFirstRegister), edited: false };
    }
    const previous = this.grid.previous(intervalStart);
    return endRegisterOf(lookup === 'get' ? this.book.get(previous) : this.book.peek(previous));
  }

  /**
   * An interval's value from its start and end registers, times the multiplier. A register that
   * went down wrapped at the register maximum only if the wrapped advance is plausible: within
   * the spike limit where the meter has a rated power, else less than half the register's range
   * (a bigger "wrap" is far more likely a reset, a swap or a misread). `intervals` > 1 prorates a
   * gap, whose plausible advance scales with its length.
   */
  derive(
    intervalStart: number,
    start: RegisterValue | undefined,
    end: RegisterValue | undefined,
    intervals = 1,
  ): Derivation {
    if (!start || !end) return { kind: 'unknown' };
    const { multiplier, registerMaximum } = this.rulesAt(intervalStart);
    const quality = start.edited || end.edited ? 'edited' : 'measured';
    if (end.register.gte(start.register)) {
      return { kind: 'value', value: end.register.minus(start.register).mul(multiplier), quality };
    }
    const fromTo = `register went from ${decimalText(start.register)} to ${decimalText(end.register)}`;
    if (!registerMaximum) {
      return { kind: 'invalid', reason: `${fromTo}: negative consumption` };
    }
    const advance = registerMaximum.minus(start.register).plus(end.register);
    if (!advance.gt(0)) {
      // Only a register at or above its rollover value gets here: no wrap explains the drop.
      return {
        kind: 'invalid',
        reason: `${fromTo}: a register rolls over at ${decimalText(registerMaximum)}, so this is no rollover`,
      };
    }
    const value = advance.mul(multiplier);
    const plausible = this.limit
      ? value.lte(this.limit.mul(intervals))
      : advance.lt(registerMaximum.div(2));
    if (!plausible) {
      const bound = this.limit
        ? `the meter's maximum of ${decimalText(this.limit.mul(intervals))} ${this.unit}`
        : `half the register range (${decimalText(registerMaximum.div(2))})`;
      return {
        kind: 'invalid',
        reason: `${fromTo}: a rollover at ${decimalText(registerMaximum)} would mean ${decimalText(value)} ${this.unit}, more than ${bound}; not a plausible rollover`,
      };
    }
    return { kind: 'value', value, quality };
  }

  /** Where the limit is exceeded, the reason a value is held. */
  spikeReason(value: Dec, what = 'value'): string | undefined {
    if (!this.limit || value.lte(this.limit)) return undefined;
    return `${what} ${decimalText(value)} ${this.unit} exceeds the meter's physical maximum of ${decimalText(this.limit)} ${this.unit} per ${this.grid.minutes}-minute interval (rated power ${this.meter.registration.ratedPowerKw} kW)`;
  }

  intervalEnd(intervalStart: number): number {
    return this.grid.next(intervalStart);
  }
}

export function endRegisterOf(slot: SlotState | undefined): RegisterValue | undefined {
  if (slot?.register === undefined) return undefined;
  return { register: new Dec(slot.register), edited: !!slot.registerEdited };
}
