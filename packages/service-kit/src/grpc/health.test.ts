import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import pg from 'pg';
import { eventually, startPrivatePostgres, type PrivatePostgres } from '@park/testing';
import { dependencyChecks, Readiness } from '../readiness';
import { startServer, type TestServer } from './test-support/fixtures';

type Status = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: { status: Status }) => void,
  ): grpc.ClientUnaryCall;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: Status }>;
}

const DIAGNOSTICS = 'park.diagnostics.v1.DiagnosticsService';

let postgres: PrivatePostgres;
let pool: pg.Pool;
let readiness: Readiness;
let server: TestServer;
let client: HealthClient;

beforeAll(async () => {
  // This test stops PostgreSQL: never the shared server the other test files use.
  const started = await startPrivatePostgres();
  if (!started) {
    throw new Error(
      'this test stops PostgreSQL: it needs the PostgreSQL binaries (/usr/lib/postgresql)',
    );
  }
  postgres = started;
  pool = new pg.Pool({ connectionString: postgres.url, max: 2, connectionTimeoutMillis: 1_000 });
  // A broken connection must not crash the test process while the server is down.
  pool.on('error', () => undefined);
  readiness = new Readiness([dependencyChecks.postgres(pool)], {
    intervalMs: 200,
    timeoutMs: 1_000,
  });
  await readiness.start();
  server = await startServer({ readiness });
  const Client = grpc.makeGenericClientConstructor(healthDefinition, 'Health');
  client = new Client(server.address, grpc.credentials.createInsecure()) as unknown as HealthClient;
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  readiness?.stop();
  await pool?.end();
  await postgres?.stop();
});

/** Health needs no token: kubelets and load balancers probe without one. */
function check(service: string): Promise<Status> {
  return new Promise((resolve, reject) =>
    client.check({ service }, { deadline: Date.now() + 2_000 }, (error, response) =>
      error ? reject(error) : resolve(response.status),
    ),
  );
}

async function expectEverywhere(status: Status): Promise<void> {
  await eventually(async () => {
    expect({ server: await check(''), diagnostics: await check(DIAGNOSTICS) }).toEqual({
      server: status,
      diagnostics: status,
    });
  }, 30_000);
}

it('answers NOT_SERVING while PostgreSQL is unreachable and SERVING again once it is back', async () => {
  const watched: Status[] = [];
  const watch = client.watch({ service: '' });
  watch.on('data', ({ status }: { status: Status }) => watched.push(status));
  watch.on('error', () => undefined);

  await expectEverywhere('SERVING');

  await postgres.pause();
  await expectEverywhere('NOT_SERVING');
  expect(readiness.current.dependencies.postgres?.ok).toBe(false);

  await postgres.resume();
  await expectEverywhere('SERVING');

  // A watcher hears the changes as they happen (more flips if a probe timed out under load).
  await eventually(() => {
    expect(watched[0]).toBe('SERVING');
    expect(watched).toContain('NOT_SERVING');
    expect(watched.at(-1)).toBe('SERVING');
  }, 5_000);
  watch.cancel();
}, 120_000);

it('answers NOT_FOUND for a service the server does not serve', async () => {
  await expect(check('park.nothing.v1.Missing')).rejects.toMatchObject({
    code: grpc.status.NOT_FOUND,
  });
});
