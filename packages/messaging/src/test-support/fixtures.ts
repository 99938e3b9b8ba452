import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { park } from '@park/contracts';
import type { RecordedEvent } from '@park/eventstore';
import { spawnTsChild } from '@park/testing';
import type { IntegrationEventMapper } from '../relay';

/**
 * The test's integration event: a park.common.v1.Quantity whose value is the stream version, so
 * a consumer can check per-key order from the payload alone.
 */
export function quantityMapper(topic: string): IntegrationEventMapper {
  return (event: RecordedEvent) => ({
    topic,
    key: event.streamId,
    type: 'park.common.v1.Quantity',
    payload: park.common.v1.Quantity.encode({
      value: { value: String(event.streamVersion) },
      unit: park.common.v1.Unit.UNIT_KWH,
    }).finish(),
  });
}

export function decodeVersion(value: Buffer | null): number {
  return Number(park.common.v1.Quantity.decode(value ?? Buffer.alloc(0)).value?.value);
}

/** Runs a TypeScript file of this package's src folder as a child process. */
export function spawnChild(file: string, env: Record<string, string>): ChildProcess {
  return spawnTsChild(path.join(__dirname, '..', file), env);
}
