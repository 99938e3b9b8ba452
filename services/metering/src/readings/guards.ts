import { NotFoundError, PreconditionError, ValidationError } from '@park/service-kit/errors';
import { instantText, parseInstant } from '@park/domain-primitives';
import type { MeterContext } from './meter-context';
import type { MeterState, RegisteredMeterState } from './model';

export function registeredMeter(state: MeterState, meterId: string): RegisteredMeterState {
  if (state.status === 'unregistered') {
    throw new NotFoundError(`meter ${meterId} is not registered`);
  }
  // One stream per meter: a command for another meter means the adapter loaded the wrong stream.
  if (state.registration.meterId !== meterId) {
    throw new PreconditionError(
      `this stream is meter ${state.registration.meterId}'s, not meter ${meterId}'s`,
    );
  }
  return state;
}

export function requireInstant(field: string, text: unknown): number {
  const instant = parseInstant(text);
  if (instant === undefined) {
    throw ValidationError.field(
      field,
      'must be an ISO 8601 instant with an offset, e.g. 2025-01-01T00:00:00Z',
    );
  }
  return instant;
}

export function requireIntervalStart(ctx: MeterContext, field: string, text: unknown): number {
  const start = requireInstant(field, text);
  if (!ctx.grid.isAligned(start)) throw ValidationError.field(field, misalignment(ctx, start));
  return start;
}

export function misalignment(ctx: MeterContext, start: number): string {
  return `${instantText(start)} is not an interval start of this ${ctx.grid.minutes}-minute meter: intervals start at ${ctx.grid.alignment}`;
}

export function requireReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw ValidationError.field('reason', 'say why: the reason is kept with the change');
  }
  return reason.trim();
}
