import { type Dec, decimalText, sameQuantity, instantText } from '@park/domain-primitives';
import { withoutUndefined } from '../registry/meter-registration';
import { endRegisterOf, type Derivation, type MeterContext } from './meter-context';
import type { HeldReading, SlotState } from './model';

export type ApplyOutcome =
  | { kind: 'duplicate' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'held'; reason: string }
  | { kind: 'applied'; before: SlotState; value?: string };

export interface ApplyOptions {
  source: string;
  /** Why a value that was already there changes (when the sender says). */
  reason?: string;
  /** Operator decisions skip the spike check: the operator has looked at the value. */
  holds?: Map<number, HeldReading>;
  /** An operator's acceptance: apply the held value without the duplicate and edited checks. */
  force?: boolean;
}

const SUPERSEDES_ESTIMATE = 'measured supersedes estimate';

/** An interval meter's value (in the meter's unit, after the multiplier) for one interval. */
export function applyIntervalValue(
  ctx: MeterContext,
  start: number,
  value: Dec,
  options: ApplyOptions,
): ApplyOutcome {
  const before = ctx.book.get(start)!;
  const held = ctx.meter.held[instantText(start)];
  const text = decimalText(value);
  if (!options.force) {
    if (held && sameQuantity(held.value, text)) return { kind: 'duplicate' };
    if (before.quality !== 'estimated' && sameQuantity(before.value, text)) {
      return { kind: 'duplicate' };
    }
    if (before.quality === 'edited') return editedByOperator(before);
  }
  const spike = options.holds && ctx.spikeReason(value);
  if (spike) {
    options.holds!.set(
      start,
      heldReading(ctx, { value: text, source: options.source, reason: spike }),
    );
    return { kind: 'held', reason: spike };
  }
  ctx.book.set(
    start,
    { value: text, quality: 'measured', source: options.source },
    { reason: changeReason(before, options) },
  );
  return { kind: 'applied', before, value: text };
}

/**
 * A cumulative meter's register at the end of one interval. It decides this interval's value
 * (from the previous register) and the next one's (to the next register, if already known):
 * a register that would make either negative is rejected, one that would make either a spike is
 * held as a whole, since the register is what is suspect.
 */
export function applyRegister(
  ctx: MeterContext,
  start: number,
  register: Dec,
  options: ApplyOptions,
): ApplyOutcome {
  const before = ctx.book.get(start)!;
  const held = ctx.meter.held[instantText(start)];
  const text = decimalText(register);
  if (!options.force) {
    if (held && sameQuantity(held.register, text)) return { kind: 'duplicate' };
    if (sameQuantity(before.register, text)) return { kind: 'duplicate' };
    if (before.quality === 'edited') return editedByOperator(before);
  }
  const end = { register, edited: false };
  const own = ctx.derive(start, ctx.startRegister(start), end);
  const nextStart = ctx.grid.next(start);
  const next = ctx.book.get(nextStart)!;
  const following: Derivation =
    ctx.replacementAt(nextStart) || next.register === undefined || next.quality === 'edited'
      ? { kind: 'unknown' }
      : ctx.derive(nextStart, end, endRegisterOf(next));
  if (own.kind === 'invalid') return { kind: 'rejected', reason: own.reason };
  if (following.kind === 'invalid') {
    return { kind: 'rejected', reason: `the following interval's ${following.reason}` };
  }
  const spike =
    options.holds &&
    ((own.kind === 'value' && ctx.spikeReason(own.value)) ||
      (following.kind === 'value' &&
        ctx.spikeReason(following.value, "the following interval's value")));
  if (spike) {
    options.holds!.set(
      start,
      heldReading(ctx, {
        value: own.kind === 'value' ? decimalText(own.value) : undefined,
        register: text,
        source: options.source,
        reason: spike,
      }),
    );
    return { kind: 'held', reason: spike };
  }
  const after: SlotState = {
    ...before,
    register: text,
    registerEdited: undefined,
    source: options.source,
  };
  if (own.kind === 'value') {
    after.value = decimalText(own.value);
    after.quality = own.quality;
  }
  const reason =
    own.kind === 'value'
      ? changeReason(before, options)
      : before.value === undefined
        ? undefined
        : 'register read for an estimated interval';
  ctx.book.set(start, after, { reason });
  if (following.kind === 'value') {
    ctx.book.set(
      nextStart,
      // The interval's value now rests on this reading's register: it is the change's source.
      {
        ...next,
        value: decimalText(following.value),
        quality: following.quality,
        source: options.source,
      },
      {
        reason: next.quality === 'estimated' ? SUPERSEDES_ESTIMATE : 'previous register corrected',
      },
    );
  }
  return { kind: 'applied', before, value: after.value };
}

function changeReason(before: SlotState, options: ApplyOptions): string | undefined {
  if (before.value === undefined) return undefined;
  if (before.quality === 'estimated') return SUPERSEDES_ESTIMATE;
  return options.reason ?? 'resent with a different reading';
}

function editedByOperator(before: SlotState): ApplyOutcome {
  return {
    kind: 'rejected',
    reason: `an operator edited this interval (value ${before.value}); change it with CorrectReading`,
  };
}

function heldReading(ctx: MeterContext, held: HeldReading): HeldReading {
  return withoutUndefined({ ...held, limit: ctx.limit && decimalText(ctx.limit) });
}
