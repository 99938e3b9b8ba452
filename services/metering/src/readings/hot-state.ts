import type { Redis } from 'ioredis';
import { meterStreamId } from './meter';
import type { MeterState } from './model';
import type { MeterStreams } from './meter-streams';

/** What gateways and dashboards ask about a meter most: where its data has got to. */
export interface MeterHotState {
  meterId: string;
  /** The stream version this was computed at. */
  version: number;
  lastIntervalStart?: string;
  /** Cumulative meters: the raw register at the end of the latest interval that has one. */
  lastRegister?: string;
}

// Writes only when newer, so two ingests finishing out of order cannot leave the older state.
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'lastIntervalStart', ARGV[2], 'lastRegister', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/**
 * Per-meter hot state in Redis, written after commit. A cache only: the event store is the
 * source of truth, a miss (eviction, FLUSHALL, a new replica) recomputes it from the stream.
 */
export class MeterHotStateCache {
  constructor(
    private readonly redis: Redis,
    private readonly streams: MeterStreams,
    private readonly options: {
      prefix?: string;
      ttlMs?: number;
      onError?: (e: unknown) => void;
    } = {},
  ) {}

  private key(meterId: string): string {
    return `${this.options.prefix ?? 'metering'}:meter:${meterId}:hot`;
  }

  /** After a commit; a failure is reported and swallowed (the next read recomputes). */
  async record(meterId: string, state: MeterState, version: number): Promise<void> {
    await this.recordMany([{ meterId, state, version }]);
  }

  /** `record` for the meters of one commit, in one pipeline (one round trip). */
  async recordMany(
    meters: readonly { meterId: string; state: MeterState; version: number }[],
  ): Promise<void> {
    if (meters.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const { meterId, state, version } of meters) {
        const hot = hotStateOf(meterId, state, version);
        pipeline.eval(
          SET_IF_NEWER,
          1,
          this.key(meterId),
          String(hot.version),
          hot.lastIntervalStart ?? '',
          hot.lastRegister ?? '',
          String(this.options.ttlMs ?? 7 * 24 * 3600_000),
        );
      }
      const answers = (await pipeline.exec()) ?? [];
      for (const [error] of answers) if (error) this.options.onError?.(error);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  async get(meterId: string): Promise<MeterHotState | undefined> {
    let cached: Record<string, string> = {};
    try {
      cached = await this.redis.hgetall(this.key(meterId));
    } catch (error) {
      this.options.onError?.(error);
    }
    if (cached.version !== undefined) {
      return {
        meterId,
        version: Number(cached.version),
        ...(cached.lastIntervalStart && { lastIntervalStart: cached.lastIntervalStart }),
        ...(cached.lastRegister && { lastRegister: cached.lastRegister }),
      };
    }
    const { state, version } = await this.streams.writer.load(meterStreamId(meterId));
    if (state.status === 'unregistered') return undefined;
    await this.record(meterId, state, version);
    return hotStateOf(meterId, state, version);
  }
}

export function hotStateOf(meterId: string, state: MeterState, version: number): MeterHotState {
  const hot: MeterHotState = { meterId, version };
  if (state.status === 'unregistered' || state.latestSlot === undefined) return hot;
  hot.lastIntervalStart = state.latestSlot;
  const withRegister = Object.keys(state.slots)
    .filter((start) => state.slots[start]!.register !== undefined)
    .sort();
  const last = withRegister[withRegister.length - 1];
  if (last !== undefined) hot.lastRegister = state.slots[last]!.register!;
  return hot;
}
