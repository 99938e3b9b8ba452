import type { MeterDescriptor, RegisterMeter } from '../../registry/meter-registration';
import { decideIngest, type IngestDecision } from '../ingest';
import { createMeterDecider, evolveMeter } from '../meter';
import {
  DEFAULT_METER_OPTIONS,
  type IncomingReading,
  type MeterCommand,
  type MeterDeciderOptions,
  type MeterEvent,
  type MeterState,
  type RegisteredMeterState,
} from '../model';

/** 2025-03-10 00:00 UTC = 08:00 in Shanghai, a Monday. */
export const T0 = Date.parse('2025-03-10T00:00:00Z');

/** The start of the k-th 15-minute interval after T0. */
export function q(k: number): string {
  return new Date(T0 + k * 15 * 60_000).toISOString();
}

export const SHANGHAI = 'Asia/Shanghai';

/** 100 kW rated power: at most 100 kW x 0.25 h = 25 kWh per 15-minute interval. */
export const intervalMeter: RegisterMeter = {
  type: 'RegisterMeter',
  meterId: 'm-int',
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  timeZone: SHANGHAI,
  commodity: 'electricity',
  role: 'grid_import',
  unit: 'kWh',
  registerType: 'interval',
  ratedPowerKw: '100',
};

/**
 * A 5-digit kWh register (wraps at 100000) behind 200/5 A current transformers: multiplier 40.
 * 800 kW rated power: at most 800 x 0.25 = 200 kWh per interval, i.e. 5 register units.
 */
export const cumulativeMeter: RegisterMeter = {
  type: 'RegisterMeter',
  meterId: 'm-cum',
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  timeZone: SHANGHAI,
  commodity: 'electricity',
  role: 'grid_import',
  unit: 'kWh',
  registerType: 'cumulative',
  registerMaximum: '100000',
  multiplier: '40',
  ratedPowerKw: '800',
};

export function reading(
  k: number,
  value: string,
  extra: Partial<IncomingReading> = {},
): IncomingReading {
  return { intervalStart: q(k), value, unit: 'kWh', source: 'gateway:gw-1', ...extra };
}

export function registerReading(
  k: number,
  register: string,
  extra: Partial<IncomingReading> = {},
): IncomingReading {
  return { intervalStart: q(k), register, unit: 'kWh', source: 'gateway:gw-1', ...extra };
}

/**
 * Given / when / then over one meter stream: `given` runs commands whose events become the
 * history, `when` decides one command on that history and applies its events (so scenarios can
 * go on), returning the new events or the error.
 */
export class MeterScenario {
  readonly history: MeterEvent[] = [];
  state: MeterState;
  private readonly decider;

  constructor(
    registration: RegisterMeter,
    readonly options: MeterDeciderOptions = DEFAULT_METER_OPTIONS,
  ) {
    this.decider = createMeterDecider(options);
    this.state = this.decider.initialState();
    this.given(registration);
  }

  get meterId(): string {
    return (this.state as RegisteredMeterState).registration.meterId;
  }

  get registered(): RegisteredMeterState {
    if (this.state.status === 'unregistered') throw new Error('not registered');
    return this.state;
  }

  given(...commands: MeterCommand[]): this {
    for (const command of commands) this.apply(this.decider.decide(command, this.state));
    return this;
  }

  givenReadings(now: string, readings: IncomingReading[]): this {
    return this.given({ type: 'IngestReadings', meterId: this.meterId, now, readings });
  }

  when(command: MeterCommand): MeterEvent[] {
    const events = this.decider.decide(command, this.state);
    this.apply(events);
    return events;
  }

  whenError(command: MeterCommand): unknown {
    const before = this.state;
    try {
      this.decider.decide(command, this.state);
    } catch (error) {
      return error;
    } finally {
      this.state = before;
    }
    throw new Error(`expected ${command.type} to fail`);
  }

  whenIngest(
    now: string,
    readings: IncomingReading[],
    history?: IngestDecisionHistory,
  ): IngestDecision {
    const decision = decideIngest(
      { type: 'IngestReadings', meterId: this.meterId, now, readings, ...(history && { history }) },
      this.state,
      this.options,
    );
    this.apply(decision.events);
    if (!history) this.expectRedeliveryChangesNothing(now, readings);
    return decision;
  }

  /** Gateways deliver at least once: the same batch again must record nothing new. */
  private expectRedeliveryChangesNothing(now: string, readings: IncomingReading[]): void {
    const again = decideIngest(
      { type: 'IngestReadings', meterId: this.meterId, now, readings },
      this.state,
      this.options,
    );
    if (again.events.length > 0) {
      throw new Error(`redelivered batch produced events: ${JSON.stringify(again.events)}`);
    }
  }

  private apply(events: MeterEvent[]): void {
    for (const event of events) {
      // Through JSON, as the event store would hand the events back.
      const stored = JSON.parse(JSON.stringify(event)) as MeterEvent;
      this.history.push(stored);
      this.state = evolveMeter(this.state, stored, this.options);
    }
  }
}

type IngestDecisionHistory = NonNullable<Parameters<typeof decideIngest>[0]['history']>;

/** The descriptor events carry for a meter registered with this command. */
export function descriptor(registration: RegisterMeter): MeterDescriptor {
  return {
    meterId: registration.meterId,
    parkId: registration.parkId,
    enterpriseId: registration.enterpriseId,
    commodity: registration.commodity as MeterDescriptor['commodity'],
    role: registration.role as MeterDescriptor['role'],
    unit: registration.unit as MeterDescriptor['unit'],
    intervalMinutes: registration.intervalMinutes ?? 15,
  };
}
