// A service built on the kit in a process of its own, for the SIGTERM test: its Ping takes about
// 300 ms and tells the parent when each call starts and finishes; SIGTERM drains it and it
// exits 0 after sending the shutdown report.
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenVerifier } from '../auth';
import { createLogger } from '../logger';
import { Readiness } from '../readiness';
import { diagnosticsService } from './diagnostics';
import { createGrpcServer } from './server';
import { AUTH, CONFIG } from './test-support/fixtures';

export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'started' | 'finished'; id: string }
  | { type: 'draining' }
  | { type: 'report'; report: unknown; error?: string };

const send = (message: ChildMessage) =>
  new Promise<void>((resolve) => process.send!(message, () => resolve()));

async function main(): Promise<void> {
  const readiness = new Readiness([]);
  await readiness.start();
  const server = createGrpcServer({
    config: { ...CONFIG, SERVICE_NAME: 'shutdown-child' },
    verifier: new TokenVerifier(AUTH),
    readiness,
    logger: createLogger({ service: 'shutdown-child', level: 'warn' }),
    services: [
      diagnosticsService(
        { name: 'shutdown-child', version: CONFIG.SERVICE_VERSION },
        {
          ping: async (_request, { metadata }) => {
            const id = String(metadata.get('x-call-id')[0]);
            void send({ type: 'started', id });
            await sleep(300);
            void send({ type: 'finished', id });
            return { service: 'shutdown-child', version: id, serverTime: new Date() };
          },
        },
      ),
    ],
  });
  const port = await server.start();
  server.shutdownOnSignals((report, error) => {
    void send({ type: 'report', report, ...(error ? { error: String(error) } : {}) }).then(() =>
      process.exit(error ? 1 : 0),
    );
  });
  // After the kit's handler: by the time the parent reads this, the server refuses new calls.
  process.on('SIGTERM', () => void send({ type: 'draining' }));
  await send({ type: 'listening', port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
