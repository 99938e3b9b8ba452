import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import {
  Dec,
  decimalText,
  parseDecimal,
  instantText,
  MINUTE_MS,
  parseInstant,
  Violations,
} from '@park/domain-primitives';
import {
  validateMeterRegistration,
  withoutUndefined,
  type DecommissionMeter,
  type MeterRegistration,
  type RegisterMeter,
  type ReplaceMeter,
} from '../registry/meter-registration';
import { applyRegister } from './apply';
import { slotEvents } from './emit';
import { misalignment, registeredMeter, requireInstant } from './guards';
import { MeterContext } from './meter-context';
import type {
  MeterDeciderOptions,
  MeterEvent,
  MeterState,
  RegisteredMeterState,
  Replacement,
} from './model';
import { SlotBook } from './slot-book';

export function decideRegister(command: RegisterMeter, state: MeterState): MeterEvent[] {
  const registration = validateMeterRegistration(command);
  if (state.status !== 'unregistered') {
    // A retried registration is a no-op; a different one is a conflict, not an update.
    if (sameRegistration(state.registration, registration)) return [];
    throw new PreconditionError(`meter ${registration.meterId} is already registered`);
  }
  return [{ type: 'MeterRegistered', ...registration }];
}

/**
 * A swap at an interval boundary: the old meter's final register closes the interval that ends
 * at the swap (recorded like a reading from source "meter_replacement"), and the new meter's
 * first register is where the next interval starts. It must be recorded before the new meter's
 * readings, since those would otherwise have been differenced against the old register.
 */
export function decideReplace(
  command: ReplaceMeter,
  state: MeterState,
  options: MeterDeciderOptions,
): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  if (meter.status === 'decommissioned') {
    throw new PreconditionError(`meter ${command.meterId} is decommissioned`);
  }
  const ctx = new MeterContext(meter, new SlotBook(meter, undefined, 'strict'), options);
  const at = requireInstant('at', command.at);
  const now = requireInstant('now', command.now);
  if (!ctx.grid.isAligned(at)) throw ValidationError.field('at', misalignment(ctx, at));
  if (at > now + options.futureToleranceMinutes * MINUTE_MS) {
    throw ValidationError.field('at', 'a replacement is recorded after it happened');
  }
  if (meter.latestSlot !== undefined && parseInstant(meter.latestSlot)! >= at) {
    throw new PreconditionError(
      `readings exist for the interval starting ${meter.latestSlot}, at or after the swap at ${instantText(at)}: record a replacement before the new meter's readings`,
    );
  }
  const previous = meter.replacements[meter.replacements.length - 1];
  if (previous && parseInstant(previous.at)! >= at) {
    throw new PreconditionError(`the meter was already replaced at ${previous.at}`);
  }

  const current = ctx.rulesAt(at);
  const v = new Violations();
  let multiplier = decimalText(current.multiplier);
  if (command.multiplier !== undefined) {
    const given = v.positiveDecimal('multiplier', command.multiplier);
    if (given) multiplier = decimalText(given);
  }
  let registerMaximum = current.registerMaximum && decimalText(current.registerMaximum);
  let oldFinalRegister: string | undefined;
  let newFirstRegister: string | undefined;
  if (ctx.cumulative) {
    if (command.registerMaximum !== undefined) {
      const given = v.positiveDecimal('register_maximum', command.registerMaximum);
      if (given) registerMaximum = decimalText(given);
    }
    oldFinalRegister = registerReading(
      v,
      'old_final_register',
      command.oldFinalRegister,
      current.registerMaximum,
    );
    newFirstRegister = registerReading(
      v,
      'new_first_register',
      command.newFirstRegister,
      registerMaximum === undefined ? undefined : new Dec(registerMaximum),
    );
  } else {
    for (const [field, given] of [
      ['old_final_register', command.oldFinalRegister],
      ['new_first_register', command.newFirstRegister],
      ['register_maximum', command.registerMaximum],
    ] as const) {
      if (given !== undefined) v.add(field, 'an interval meter has no register to carry over');
    }
  }
  const serialNumber = v.optionalText('new_serial_number', command.newSerialNumber, 64);
  v.throwIfAny();

  const replacement: Replacement = withoutUndefined({
    at: instantText(at),
    oldFinalRegister,
    newFirstRegister,
    multiplier,
    registerMaximum,
    serialNumber,
  });
  const before = currentRegistration(meter);
  if (oldFinalRegister !== undefined) {
    const outcome = applyRegister(ctx, ctx.grid.previous(at), new Dec(oldFinalRegister), {
      source: 'meter_replacement',
      reason: 'final register of the replaced meter',
    });
    if (outcome.kind === 'rejected') {
      throw ValidationError.field('old_final_register', outcome.reason);
    }
  }
  return [
    withoutUndefined({
      type: 'MeterReplaced' as const,
      meterId: meter.registration.meterId,
      ...replacement,
      oldSerialNumber: before.serialNumber,
      current: {
        registration: currentRegistration({
          ...meter,
          replacements: [...meter.replacements, replacement],
        }),
      },
    }),
    ...slotEvents(ctx),
  ];
}

export function decideDecommission(command: DecommissionMeter, state: MeterState): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  const at = requireInstant('at', command.at);
  if (meter.status === 'decommissioned') {
    if (meter.decommissionedAt === instantText(at)) return [];
    throw new PreconditionError(
      `meter ${command.meterId} was decommissioned at ${meter.decommissionedAt}`,
    );
  }
  return [
    {
      type: 'MeterDecommissioned',
      meterId: meter.registration.meterId,
      at: instantText(at),
      current: { registration: currentRegistration(meter) },
    },
  ];
}

/**
 * The registration as it stands after the meter's replacements: the latest swap's multiplier,
 * register maximum and serial number (a swap without a serial leaves it unknown).
 */
export function currentRegistration(
  meter: Pick<RegisteredMeterState, 'registration' | 'replacements'>,
): MeterRegistration {
  const latest = meter.replacements[meter.replacements.length - 1];
  if (!latest) return meter.registration;
  const { registerMaximum: _maximum, serialNumber: _serial, ...rest } = meter.registration;
  return withoutUndefined({
    ...rest,
    multiplier: latest.multiplier,
    registerMaximum: latest.registerMaximum,
    serialNumber: latest.serialNumber,
  });
}

function sameRegistration(a: MeterRegistration, b: MeterRegistration): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof MeterRegistration>;
  return [...keys].every((key) => a[key] === b[key]);
}

function registerReading(
  v: Violations,
  field: string,
  text: unknown,
  maximum: Dec | undefined,
): string | undefined {
  const value = parseDecimal(text);
  if (!value || value.isNegative()) {
    v.add(field, 'a cumulative meter swap needs this register reading (a decimal, 0 or more)');
    return undefined;
  }
  if (maximum && value.gte(maximum)) {
    v.add(field, `must be below the register maximum ${decimalText(maximum)}`);
    return undefined;
  }
  return decimalText(value);
}
