import type { ExpectedVersion } from './types';

/** Another writer got there first, or the stream is not in the state the appender expected. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number | undefined,
  ) {
    super(
      `stream ${streamId}: expected version ${String(expected)}, ` +
        (actual === undefined
          ? 'but a concurrent append won'
          : `but it is at ${actual === 0 ? 'no stream' : actual}`),
    );
  }
}

/** An event whose shape this code cannot read, even after upcasting. */
export class UnknownEventShapeError extends Error {
  override readonly name = 'UnknownEventShapeError';
}
