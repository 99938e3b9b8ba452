import { runOpenLoop, ticksDueBy, unitsOfTick } from './pacing';

test('ticks carry whole units and the fractions over, so N ticks hold the exact total', () => {
  expect(unitsOfTick(0, 5_000, 100)).toBe(500);
  const ticks = Array.from({ length: 10 }, (_, t) => unitsOfTick(t, 4_999, 100));
  expect(ticks.reduce((a, b) => a + b, 0)).toBe(4_999);
  expect(Math.max(...ticks) - Math.min(...ticks)).toBeLessThanOrEqual(1);
  const slow = Array.from({ length: 20 }, (_, t) => unitsOfTick(t, 15, 100));
  expect(slow.reduce((a, b) => a + b, 0)).toBe(30);
});

test('the first tick is due at once, then one per interval', () => {
  expect(ticksDueBy(-1, 100)).toBe(0);
  expect(ticksDueBy(0, 100)).toBe(1);
  expect(ticksDueBy(99.9, 100)).toBe(1);
  expect(ticksDueBy(100, 100)).toBe(2);
  expect(ticksDueBy(1_050, 100)).toBe(11);
});

test('the open loop does not wait for slow answers before the next tick', async () => {
  const firedAt: number[] = [];
  const start = Date.now();
  const outcome = await runOpenLoop({
    intervalMs: 10,
    ticks: 5,
    signal: new AbortController().signal,
    fire: async (tick) => {
      firedAt[tick] = Date.now() - start;
      await new Promise((resolve) => setTimeout(resolve, 100));
    },
  });
  // Five answers of 100 ms each one after the other would take 500 ms.
  expect(firedAt[4]).toBeLessThan(100);
  expect(outcome.elapsedMs).toBeGreaterThanOrEqual(100);
  expect(outcome.elapsedMs).toBeLessThan(400);
});

test('a failed tick stops the schedule and is thrown', async () => {
  let fired = 0;
  await expect(
    runOpenLoop({
      intervalMs: 5,
      ticks: 1_000,
      signal: new AbortController().signal,
      fire: async (tick) => {
        fired++;
        if (tick === 2) throw new Error('refused');
      },
    }),
  ).rejects.toThrow('refused');
  expect(fired).toBeLessThan(1_000);
});
