import {
  type EventMetadata,
  type EventStore,
  StreamWriter,
  type Decision,
  type WriteOutcome,
} from '@park/eventstore';
import type { PoolClient } from 'pg';
import { decimalText, Dec, instantText } from '@park/domain-primitives';
import { createMeterDecider, historyNeeded, meterSnapshots, meterStreamId } from './meter';
import {
  DEFAULT_METER_OPTIONS,
  type MeterCommand,
  type MeterDeciderOptions,
  type MeterEvent,
  type MeterState,
  type SlotHistory,
  type SlotState,
} from './model';
import { projectMeteringEvents, ReadingPartitions } from './projection';
import { HistoryRequiredError } from './slot-book';

/**
 * The park of the design (5,000 meters) in memory. A 15-minute meter's state holds its recent
 * window (192 intervals) and coverage, about 33 kB of heap: some 165 MB in all, which spares
 * every command a snapshot read and the replay of up to 32 events.
 */
export const DEFAULT_CACHED_METERS = 5_000;

/** Attempts at a decision that asks for more history than historyNeeded said (defensive). */
const HISTORY_ROUNDS = 3;

/**
 * The meter streams with their read models: every meter command (registration, swap, readings,
 * gap filling, operator review) runs read-decide-append-project in one transaction, with the
 * read-model rows the decision needs for intervals older than the state's window.
 */
export class MeterStreams {
  readonly options: MeterDeciderOptions;
  readonly writer: StreamWriter<MeterCommand, MeterEvent, MeterState>;
  readonly partitions: ReadingPartitions;

  constructor(
    readonly store: EventStore,
    options: Partial<MeterDeciderOptions> & {
      maxAttempts?: number;
      /** Meters whose state stays in memory between commands (StreamStateCache). */
      cachedMeters?: number;
    } = {},
  ) {
    const { maxAttempts, cachedMeters, ...deciderOptions } = options;
    this.options = { ...DEFAULT_METER_OPTIONS, ...deciderOptions };
    this.writer = new StreamWriter(store, createMeterDecider(this.options), projectMeteringEvents, {
      snapshots: meterSnapshots,
      maxAttempts: maxAttempts ?? 8,
      cachedStreams: cachedMeters ?? DEFAULT_CACHED_METERS,
    });
    this.partitions = new ReadingPartitions(store.pool);
  }

  load(meterId: string): Promise<{ state: MeterState; version: number }> {
    return this.writer.load(meterStreamId(meterId));
  }

  /** Any meter command through the decider, with the history it needs. */
  async execute(
    command: MeterCommand,
    metadata: EventMetadata = {},
  ): Promise<WriteOutcome<MeterEvent, MeterState, undefined>> {
    const decider = createMeterDecider(this.options);
    return this.decide(
      command.meterId,
      command,
      (cmd, state) => ({ events: decider.decide(cmd, state), result: undefined }),
      metadata,
    );
  }

  /**
   * Runs `decide` on the meter's state with `history` filled from the readings read model in the
   * transaction (historyNeeded first, then whatever a HistoryRequiredError names).
   */
  async decide<C extends MeterCommand, Result>(
    meterId: string,
    command: C,
    decide: (command: C, state: MeterState) => Decision<MeterEvent, Result>,
    metadata: EventMetadata = {},
  ): Promise<WriteOutcome<MeterEvent, MeterState, Result>> {
    return this.writer.write(
      meterStreamId(meterId),
      (state, client) => decideWithHistory(client, meterId, command, state, decide),
      metadata,
    );
  }

  /**
   * `decide` for several meters in ONE transaction (StreamWriter.writeMany): all commit or none,
   * and a version conflict on any of them does them all again. `decide` must answer a meter's
   * domain errors itself (as its result, with no events): a throw fails every meter.
   */
  async decideMany<C extends MeterCommand, Result>(
    commands: readonly C[],
    decide: (command: C, state: MeterState) => Decision<MeterEvent, Result>,
    metadata: EventMetadata = {},
  ): Promise<Map<string, WriteOutcome<MeterEvent, MeterState, Result>>> {
    const byStream = new Map(commands.map((command) => [meterStreamId(command.meterId), command]));
    if (byStream.size !== commands.length) throw new RangeError('one command per meter');
    const written = await this.writer.writeMany(
      [...byStream.keys()],
      (streamId, state, client) => {
        const command = byStream.get(streamId)!;
        return decideWithHistory(client, command.meterId, command, state, decide);
      },
      metadata,
    );
    const byMeter = new Map<string, WriteOutcome<MeterEvent, MeterState, Result>>();
    for (const [streamId, outcome] of written)
      byMeter.set(byStream.get(streamId)!.meterId, outcome);
    return byMeter;
  }
}

/** Runs `decide` with the history it needs from the read model (historyNeeded, then asked for). */
async function decideWithHistory<C extends MeterCommand, Result>(
  client: PoolClient,
  meterId: string,
  command: C,
  state: MeterState,
  decide: (command: C, state: MeterState) => Decision<MeterEvent, Result>,
): Promise<Decision<MeterEvent, Result>> {
  let wanted = historyNeeded(command, state);
  let history: SlotHistory | undefined;
  for (let round = 1; ; round++) {
    if (wanted.length > 0) {
      history = { ...history, ...(await loadHistory(client, meterId, wanted)) };
    }
    // Commands without a history field ignore it.
    const withHistory = history ? ({ ...command, history } as C) : command;
    try {
      return decide(withHistory, state);
    } catch (error) {
      if (!(error instanceof HistoryRequiredError) || round >= HISTORY_ROUNDS) throw error;
      wanted = error.intervalStarts;
    }
  }
}

/** The read model's rows for the given interval starts as the decider's SlotHistory. */
export async function loadHistory(
  client: PoolClient,
  meterId: string,
  intervalStarts: string[],
): Promise<SlotHistory> {
  const { rows } = await client.query<{
    interval_start: Date;
    value: string | null;
    quality: SlotState['quality'];
    source: string;
    register: string | null;
    register_edited: boolean;
  }>(
    `SELECT interval_start, value, quality, source, register, register_edited FROM readings
     WHERE meter_id = $1 AND interval_start = ANY($2::timestamptz[])`,
    [meterId, intervalStarts],
  );
  const history: SlotHistory = {};
  for (const start of intervalStarts) history[start] = null;
  for (const row of rows) {
    const slot: SlotState = { quality: row.quality, source: row.source };
    if (row.value !== null) slot.value = decimalText(new Dec(row.value));
    if (row.register !== null) slot.register = decimalText(new Dec(row.register));
    if (row.register_edited) slot.registerEdited = true;
    history[instantText(row.interval_start.getTime())] = slot;
  }
  return history;
}
