import { setTimeout as sleep } from 'node:timers/promises';
import { StreamLocks } from './stream-locks';

describe('StreamLocks', () => {
  it('lets holders of one stream in one after the other, in the order they asked', async () => {
    const locks = new StreamLocks();
    const order: string[] = [];
    const hold = async (name: string, ms: number) => {
      const release = await locks.acquire(['meter-1']);
      order.push(`${name} in`);
      await sleep(ms);
      order.push(`${name} out`);
      release();
    };
    // The first holds longest: without the lock the others would enter while it sleeps.
    await Promise.all([hold('a', 30), hold('b', 10), hold('c', 1)]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(locks.size).toBe(0);
  });

  it('does not hold up holders of other streams', async () => {
    const locks = new StreamLocks();
    const releaseA = await locks.acquire(['meter-a']);
    // meter-a stays held: a holder of meter-b alone gets in at once.
    const releaseB = await Promise.race([
      locks.acquire(['meter-b']),
      sleep(200).then(() => {
        throw new Error('meter-b waited for meter-a');
      }),
    ]);
    releaseB();
    releaseA();
    expect(locks.size).toBe(0);
  });

  it('never deadlocks holders of overlapping sets asked in opposite orders', async () => {
    const locks = new StreamLocks();
    let inside = 0;
    let most = 0;
    const hold = async (streams: string[]) => {
      const release = await locks.acquire(streams);
      inside++;
      most = Math.max(most, inside);
      await sleep(2);
      inside--;
      release();
    };
    const work = Array.from({ length: 40 }, (_, i) =>
      hold(i % 2 === 0 ? ['a', 'b', 'c'] : ['c', 'b', 'a']),
    );
    await Promise.race([
      Promise.all(work),
      sleep(5_000).then(() => {
        throw new Error('deadlocked');
      }),
    ]);
    // Every set holds 'b': never two inside at once.
    expect(most).toBe(1);
    expect(locks.size).toBe(0);
  });

  it('takes a stream named twice once, and a second release changes nothing', async () => {
    const locks = new StreamLocks();
    const release = await locks.acquire(['m', 'm']);
    release();
    release();
    const again = await locks.acquire(['m']);
    again();
    expect(locks.size).toBe(0);
  });
});
