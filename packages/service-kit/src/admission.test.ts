import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionLimiter } from './admission';
import { UnavailableError } from './errors';

/** Work that runs until its release is called. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, work: () => opened };
}

describe('AdmissionLimiter', () => {
  it('runs up to inProgress at once, queues up to waiting, refuses the next with UNAVAILABLE', async () => {
    const limiter = new AdmissionLimiter('batches', { inProgress: 2, waiting: 1 });
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.work();
        return i;
      }),
    );
    await sleep(5);
    // Two run, the third waits.
    expect(started).toEqual([0, 1]);
    expect([limiter.inProgress, limiter.waiting]).toEqual([2, 1]);
    // 2 in progress + 1 waiting: a fourth is refused at once, and names the load.
    const refused = limiter.run(async () => 'never');
    await expect(refused).rejects.toThrow(UnavailableError);
    await expect(refused).rejects.toThrow(
      'the service is at capacity: 2 batches in progress and 1 waiting; retry with backoff',
    );
    gates[0]!.open();
    await sleep(5);
    // The first's place went to the waiting one.
    expect(started).toEqual([0, 1, 2]);
    expect([limiter.inProgress, limiter.waiting]).toEqual([2, 0]);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect([limiter.inProgress, limiter.waiting]).toEqual([0, 0]);
  });

  it('frees the place of work that failed', async () => {
    const limiter = new AdmissionLimiter('batches', { inProgress: 1, waiting: 0 });
    await expect(
      limiter.run(async () => {
        throw new Error('database gone');
      }),
    ).rejects.toThrow('database gone');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
    expect(limiter.inProgress).toBe(0);
  });

  it('serves waiting work first come, first served', async () => {
    const limiter = new AdmissionLimiter('batches', { inProgress: 1, waiting: 10 });
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        limiter.run(async () => {
          order.push(i);
          await sleep(1);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses limits that are not whole numbers, or no place at all', () => {
    expect(() => new AdmissionLimiter('batches', { inProgress: 0, waiting: 1 })).toThrow(
      'admission limit inProgress must be a whole number, not 0',
    );
    expect(() => new AdmissionLimiter('batches', { inProgress: 2, waiting: 1.5 })).toThrow(
      'admission limit waiting must be a whole number, not 1.5',
    );
  });
});
