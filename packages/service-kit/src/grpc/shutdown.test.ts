import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import { eventually } from '@park/testing';
import type { ChildMessage } from './shutdown.child';
import type { ShutdownReport } from './server';
import { echoClient, echoService, type EchoProbe, type EchoResponse } from './test-support/echo';
import {
  bearer,
  diagnosticsClient,
  exitOf,
  spawnChild,
  startServer,
  token,
  unary,
} from './test-support/fixtures';

it('SIGTERM during a stream of calls: the calls in flight finish OK, later ones get UNAVAILABLE, exit 0', async () => {
  const child = spawnChild('shutdown.child.ts');
  const exited = exitOf(child);
  const messages: ChildMessage[] = [];
  const started = new Set<string>();
  const finished = new Set<string>();
  let inFlightAtDraining: number | undefined;
  child.on('message', (message: ChildMessage) => {
    messages.push(message);
    if (message.type === 'started') started.add(message.id);
    if (message.type === 'finished') finished.add(message.id);
    // IPC keeps the child's order: these are exactly the calls running when it began draining.
    if (message.type === 'draining') inFlightAtDraining = started.size - finished.size;
  });
  const listening = await eventually(() => {
    const message = messages.find((m) => m.type === 'listening');
    if (!message) throw new Error('the child is not listening yet');
    return message;
  }, 30_000);

  const client = diagnosticsClient(`127.0.0.1:${listening.port}`);
  const auth = bearer(await token({ role: 'operator', subject: 'op' }));
  type Phase = 'before-signal' | 'signal-sent' | 'draining';
  let phase: Phase = 'before-signal';
  const calls: { id: string; phase: Phase; result: Promise<number> }[] = [];
  const fire = () => {
    const id = `call-${calls.length}`;
    const metadata = auth.clone();
    metadata.set('x-call-id', id);
    const result = unary((done) =>
      client.ping({}, metadata, { deadline: Date.now() + 15_000 }, done),
    ).then(
      () => grpc.status.OK,
      (error: grpc.ServiceError) => error.code,
    );
    calls.push({ id, phase, result });
  };

  // A call every 40 ms, each taking 300 ms on the server: about seven in flight at any time.
  let firing = true;
  const firingLoop = (async () => {
    while (firing) {
      fire();
      await sleep(40);
    }
  })();
  await eventually(() => expect(started.size - finished.size).toBeGreaterThanOrEqual(4), 30_000);
  child.kill('SIGTERM');
  phase = 'signal-sent';
  await eventually(() => expect(inFlightAtDraining).toBeDefined(), 10_000);
  phase = 'draining';
  // Keep calling while the server drains, then until the process is gone.
  await eventually(
    () => expect(calls.filter((c) => c.phase === 'draining').length).toBeGreaterThanOrEqual(5),
    10_000,
  );
  expect(await exited).toEqual({ code: 0, signal: null });
  firing = false;
  await firingLoop;

  const results = await Promise.all(
    calls.map(async (call) => ({ ...call, code: await call.result })),
  );
  client.close();

  // Every call the server began ran to the end and answered OK.
  const begun = results.filter((call) => started.has(call.id));
  expect(begun.length).toBeGreaterThanOrEqual(4);
  expect(begun.filter((call) => call.code !== grpc.status.OK)).toEqual([]);
  expect(begun.every((call) => finished.has(call.id))).toBe(true);
  // Every call made after the server began draining was refused.
  const late = results.filter((call) => call.phase === 'draining');
  expect(late.length).toBeGreaterThanOrEqual(5);
  expect(late.filter((call) => call.code !== grpc.status.UNAVAILABLE)).toEqual([]);
  expect(late.some((call) => started.has(call.id))).toBe(false);
  // Calls racing the signal itself went one way or the other, never anything else.
  for (const call of results.filter((c) => c.phase === 'signal-sent')) {
    expect([grpc.status.OK, grpc.status.UNAVAILABLE]).toContain(call.code);
  }

  const { report } = messages.find((m) => m.type === 'report') as { report: ShutdownReport };
  expect(inFlightAtDraining).toBeGreaterThanOrEqual(4);
  // The kit also counts calls that had arrived but were still checking their token.
  expect(report.inFlight).toBeGreaterThanOrEqual(inFlightAtDraining!);
  expect(report).toMatchObject({ abandoned: 0, forced: false });
}, 90_000);

describe('shutdown in process', () => {
  it('ends health watches and streams that honour draining, and reports what it waited for', async () => {
    const probe: EchoProbe = { streamAborted: false, sawDraining: false };
    const { server, address } = await startServer({ services: [echoService(probe)] });
    const auth = bearer(await token({ role: 'operator', subject: 'op' }));
    const echo = echoClient(address);
    const Health = grpc.makeGenericClientConstructor(healthDefinition, 'Health');
    const health = new Health(address, grpc.credentials.createInsecure()) as unknown as {
      watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
      close(): void;
    };

    const watched: string[] = [];
    const watchEnd = new Promise<number>((resolve) => {
      const watch = health.watch({ service: '' });
      watch.on('data', ({ status }: { status: string }) => watched.push(status));
      watch.on('error', (error: grpc.ServiceError) => resolve(error.code));
      watch.on('end', () => resolve(grpc.status.OK));
    });
    const subscription = echo.expand({ text: 'tick', forever: true }, auth);
    const subscriptionEnd = new Promise<number>((resolve) => {
      subscription.on('data', () => undefined);
      subscription.on('error', (error: grpc.ServiceError) => resolve(error.code));
      subscription.on('end', () => resolve(grpc.status.OK));
    });
    await eventually(() => expect(server.inFlight).toBe(1), 5_000);
    await eventually(() => expect(watched).toEqual(['SERVING']), 5_000);

    const report = await server.shutdown({ timeoutMs: 5_000 });

    expect(report).toMatchObject({ inFlight: 1, abandoned: 0, forced: false });
    expect(report.durationMs).toBeLessThan(5_000);
    expect(probe.sawDraining).toBe(true);
    expect(await subscriptionEnd).toBe(grpc.status.OK);
    expect(await watchEnd).toBe(grpc.status.OK);
    expect(watched).toEqual(['SERVING', 'NOT_SERVING']);
    // A second call waits for the same shutdown rather than starting another.
    expect(await server.shutdown()).toBe(report);
    echo.close();
    health.close();
  });

  it('forces down what is still running at the deadline and says how many calls it cut off', async () => {
    const probe: EchoProbe = { streamAborted: false, sawDraining: false };
    const { server, address } = await startServer({ services: [echoService(probe)] });
    const auth = bearer(await token({ role: 'operator', subject: 'op' }));
    const echo = echoClient(address);
    const stubborn = echo.expand({ text: 'tick', forever: true, ignoreDraining: true }, auth);
    const stubbornEnd = new Promise<number>((resolve) => {
      stubborn.on('data', () => undefined);
      stubborn.on('error', (error: grpc.ServiceError) => resolve(error.code));
      stubborn.on('end', () => resolve(grpc.status.OK));
    });
    await eventually(() => expect(server.inFlight).toBe(1), 5_000);

    const report = await server.shutdown({ timeoutMs: 300 });

    expect(report).toMatchObject({ inFlight: 1, abandoned: 1, forced: true });
    expect(report.durationMs).toBeGreaterThanOrEqual(290);
    expect(await stubbornEnd).not.toBe(grpc.status.OK);
    await eventually(() => expect(probe.streamAborted).toBe(true), 5_000);
    // New calls are refused once the server is down.
    const refused = await unary<EchoResponse>((done) =>
      echo.echo({ text: 'late' }, auth, { deadline: Date.now() + 5_000 }, done),
    ).catch((error: grpc.ServiceError) => error.code);
    expect(refused).toBe(grpc.status.UNAVAILABLE);
    echo.close();
  });
});
