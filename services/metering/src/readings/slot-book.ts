import { instantText, parseInstant } from '@park/domain-primitives';
import type { RegisteredMeterState, SlotHistory, SlotState } from './model';

/**
 * Thrown when a decision needs an interval older than the state's window and the command did
 * not bring it: the adapter loads those rows from the read model and retries (or calls
 * `historyNeeded` first). Not an ApiError: it is the adapter's contract, not the caller's fault.
 */
export class HistoryRequiredError extends Error {
  override readonly name = 'HistoryRequiredError';
  constructor(readonly intervalStarts: string[]) {
    super(`history required for interval(s) ${intervalStarts.join(', ')}`);
  }
}

export interface EstimateNote {
  group: string;
  method: 'prorated_register_difference' | 'linear_interpolation';
  basis: { before: string; after: string };
}

export interface SlotChange {
  before: SlotState;
  after: SlotState;
  /** Why a value that consumers already have changes; the change's source is `after.source`. */
  reason?: string;
  estimate?: EstimateNote;
}

/**
 * A decision's working copy of the meter's intervals: reads see earlier writes of the same
 * decision, and the net changes become the events. In `strict` mode an interval outside the
 * window must come from the command's history; in `window` mode it is simply unknown.
 */
export class SlotBook {
  private readonly changes = new Map<number, SlotChange>();
  private readonly windowStartMs: number | undefined;

  constructor(
    private readonly meter: RegisteredMeterState,
    private readonly history: SlotHistory | undefined,
    private readonly mode: 'strict' | 'window',
  ) {
    this.windowStartMs =
      meter.windowStart === undefined ? undefined : parseInstant(meter.windowStart);
  }

  inWindow(epochMs: number): boolean {
    return this.windowStartMs === undefined || epochMs >= this.windowStartMs;
  }

  /** The interval's current state; undefined only in `window` mode outside the window. */
  get(epochMs: number): SlotState | undefined {
    const change = this.changes.get(epochMs);
    return change ? change.after : this.stored(epochMs);
  }

  /** Like `get`, but an interval nobody supplied is unknown in either mode: for optional work. */
  peek(epochMs: number): SlotState | undefined {
    const change = this.changes.get(epochMs);
    if (change) return change.after;
    const key = instantText(epochMs);
    if (this.inWindow(epochMs)) return this.meter.slots[key] ?? {};
    if (this.history && key in this.history) return this.history[key] ?? {};
    return undefined;
  }

  set(epochMs: number, after: SlotState, note: Omit<SlotChange, 'before' | 'after'> = {}): void {
    const before = this.changes.get(epochMs)?.before ?? this.stored(epochMs) ?? {};
    this.changes.set(epochMs, { before, after: compactSlot(after), ...note });
  }

  /** Whether any interval of the window or of this decision holds an estimate now. */
  holdsEstimates(): boolean {
    for (const change of this.changes.values()) {
      if (change.after.quality === 'estimated') return true;
    }
    for (const key in this.meter.slots) {
      if (this.meter.slots[key]!.quality === 'estimated') return true;
    }
    return false;
  }

  /** Net changes in time order, unchanged intervals left out. */
  changed(): [number, SlotChange][] {
    return [...this.changes.entries()]
      .filter(([, change]) => !sameSlot(change.before, change.after))
      .sort(([a], [b]) => a - b);
  }

  private stored(epochMs: number): SlotState | undefined {
    const key = instantText(epochMs);
    if (this.inWindow(epochMs)) return this.meter.slots[key] ?? {};
    if (this.history && key in this.history) return this.history[key] ?? {};
    if (this.mode === 'window') return undefined;
    throw new HistoryRequiredError([key]);
  }
}

export function compactSlot(slot: SlotState): SlotState {
  const compact: SlotState = {};
  if (slot.value !== undefined) compact.value = slot.value;
  if (slot.quality !== undefined) compact.quality = slot.quality;
  if (slot.source !== undefined) compact.source = slot.source;
  if (slot.register !== undefined) compact.register = slot.register;
  if (slot.registerEdited) compact.registerEdited = true;
  return compact;
}

export function sameSlot(a: SlotState, b: SlotState): boolean {
  return (
    a.value === b.value &&
    a.quality === b.quality &&
    a.register === b.register &&
    !!a.registerEdited === !!b.registerEdited &&
    a.source === b.source
  );
}
