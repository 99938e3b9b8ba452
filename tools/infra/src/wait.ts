import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls probe until it resolves, or fails after timeoutMs with the last error and what to
 * check, so a stuck start says what failed instead of hanging.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs: number,
  hint = '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + delay > deadline) break;
    await sleep(delay);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `${what} did not answer within ${Math.round(timeoutMs / 1000)} s: ${reason}${hint ? `\n${hint}` : ''}`,
  );
}

/** Resolves with the promise's value, or rejects after ms with a message naming the operation. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
