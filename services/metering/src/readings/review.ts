import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import { Dec, decimalText, parseDecimal, sameQuantity, instantText } from '@park/domain-primitives';
import { applyIntervalValue, applyRegister } from './apply';
import { gapClosedEvents, resolvedEvent, slotEvents } from './emit';
import { estimateInWindow } from './estimation';
import { registeredMeter, requireIntervalStart, requireReason } from './guards';
import { endRegisterOf, MeterContext } from './meter-context';
import type {
  AcceptReading,
  CorrectReading,
  MeterDeciderOptions,
  MeterEvent,
  MeterState,
  RejectHeldReading,
} from './model';
import { SlotBook } from './slot-book';

/** The operator looked at a held reading and it is real: record it as measured. */
export function decideAccept(
  command: AcceptReading,
  state: MeterState,
  options: MeterDeciderOptions,
): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  const reason = requireReason(command.reason);
  const ctx = new MeterContext(meter, new SlotBook(meter, command.history, 'strict'), options);
  const start = requireIntervalStart(ctx, 'interval_start', command.intervalStart);
  const held = meter.held[instantText(start)];
  if (!held) throw new PreconditionError(`no reading is held for ${instantText(start)}`);
  const applyOptions = {
    source: held.source,
    reason: `accepted after review: ${reason}`,
    force: true,
  };
  const outcome = ctx.cumulative
    ? applyRegister(ctx, start, new Dec(held.register!), applyOptions)
    : applyIntervalValue(ctx, start, new Dec(held.value!), applyOptions);
  if (outcome.kind === 'rejected') {
    throw new PreconditionError(
      `accepting the held reading is no longer possible: ${outcome.reason}; correct the interval instead`,
    );
  }
  estimateInWindow(ctx);
  return [
    resolvedEvent(ctx, start, 'accepted', reason),
    ...slotEvents(ctx),
    ...gapClosedEvents(ctx),
  ];
}

/**
 * The operator sets an interval's value (quality edited). On a cumulative meter the register at
 * the interval's end moves with it (start register + value / multiplier), so the following
 * interval absorbs the difference and the intervals keep adding up to the meter's registers.
 */
export function decideCorrect(
  command: CorrectReading,
  state: MeterState,
  options: MeterDeciderOptions,
): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  const reason = requireReason(command.reason);
  const value = parseDecimal(command.value);
  if (!value) throw ValidationError.field('value', `'${command.value}' is not a decimal number`);
  if (value.isNegative() && !value.isZero()) {
    throw ValidationError.field('value', 'negative consumption is not a reading');
  }
  if (meter.registration.role === 'storage_soc' && value.gt(100)) {
    throw ValidationError.field('value', 'a state of charge is at most 100 %');
  }
  const ctx = new MeterContext(meter, new SlotBook(meter, command.history, 'strict'), options);
  const start = requireIntervalStart(ctx, 'interval_start', command.intervalStart);
  const source = command.source?.trim() || 'operator';
  const text = decimalText(value);
  const before = ctx.book.get(start)!;
  const held = meter.held[instantText(start)];
  if (!held && before.quality === 'edited' && sameQuantity(before.value, text)) return [];

  if (ctx.cumulative) {
    correctCumulative(ctx, start, value, { reason, source });
  } else {
    ctx.book.set(start, { value: text, quality: 'edited', source }, { reason });
  }
  estimateInWindow(ctx);
  return [
    ...(held ? [resolvedEvent(ctx, start, 'corrected', reason)] : []),
    ...slotEvents(ctx),
    ...gapClosedEvents(ctx),
  ];
}

function correctCumulative(
  ctx: MeterContext,
  start: number,
  value: Dec,
  note: { reason: string; source: string },
): void {
  const before = ctx.book.get(start)!;
  const from = ctx.startRegister(start);
  if (!from) {
    // Without a start register there is no register to move; the value alone is edited.
    ctx.book.set(
      start,
      { ...before, value: decimalText(value), quality: 'edited', source: note.source },
      { reason: note.reason },
    );
    return;
  }
  const { multiplier, registerMaximum } = ctx.rulesAt(start);
  let register = from.register.plus(value.div(multiplier));
  if (registerMaximum && register.gte(registerMaximum)) register = register.minus(registerMaximum);
  const end = { register, edited: true };
  const nextStart = ctx.grid.next(start);
  const next = ctx.book.get(nextStart)!;
  if (!ctx.replacementAt(nextStart) && next.register !== undefined && next.quality !== 'edited') {
    const following = ctx.derive(nextStart, end, endRegisterOf(next));
    if (following.kind === 'invalid') {
      throw ValidationError.field(
        'value',
        `moves the register to ${decimalText(register)}, after which the following interval's ${following.reason}`,
      );
    }
    if (following.kind === 'value') {
      ctx.book.set(
        nextStart,
        {
          ...next,
          value: decimalText(following.value),
          quality: following.quality,
          source: note.source,
        },
        { reason: 'previous interval edited' },
      );
    }
  }
  ctx.book.set(
    start,
    {
      value: decimalText(value),
      quality: 'edited',
      source: note.source,
      register: decimalText(register),
      registerEdited: true,
    },
    { reason: note.reason },
  );
}

export function decideRejectHeld(
  command: RejectHeldReading,
  state: MeterState,
  options: MeterDeciderOptions,
): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  const reason = requireReason(command.reason);
  const ctx = new MeterContext(meter, new SlotBook(meter, undefined, 'window'), options);
  const start = requireIntervalStart(ctx, 'interval_start', command.intervalStart);
  if (!meter.held[instantText(start)]) {
    throw new PreconditionError(`no reading is held for ${instantText(start)}`);
  }
  return [resolvedEvent(ctx, start, 'rejected', reason)];
}
