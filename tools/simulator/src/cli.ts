// The simulator as a process: registers the seeded park, then streams its readings.
import { signDevelopmentToken } from '@park/service-kit';
import { buildPark } from './park-model';
import { registerPark, streamReadings } from './simulator';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined
    ? process.argv[at + 1]!
    : (process.env[`SIMULATOR_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback);
}

async function main(): Promise<void> {
  const seed = Number(flag('seed', '42'));
  const enterprises = Number(flag('enterprises', '40'));
  const speed = Number(flag('speed', '1'));
  const daysBack = Number(flag('days-back', '2'));
  const days = flag('days', '');
  for (const [name, value] of Object.entries({ seed, enterprises, speed, daysBack })) {
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`--${name} must be a non-negative number`);
  }
  const secret = process.env.JWT_SECRET;
  const token =
    process.env.PARK_TOKEN ??
    (secret
      ? await signDevelopmentToken(
          {
            secret,
            issuer: process.env.JWT_ISSUER ?? 'park-dev',
            audience: process.env.JWT_AUDIENCE ?? 'park',
          },
          { role: 'operator', subject: 'simulator', ttlSeconds: 30 * 86_400 },
        )
      : undefined);
  if (!token) throw new Error('set PARK_TOKEN (an operator token) or JWT_SECRET to sign one');
  const targets = {
    metering: flag('metering', '127.0.0.1:50051'),
    carbon: flag('carbon', '127.0.0.1:50052'),
    dispatch: flag('dispatch', '127.0.0.1:50053'),
    token,
  };
  const sim = buildPark({ seed, enterprises });
  const log = (line: string) => console.log(`[simulator] ${line}`);
  await registerPark(sim, targets, log);
  // From park-local midnight `daysBack` days ago, at `speed` simulated days per minute.
  const today = Math.floor((Date.now() + 8 * 3_600_000) / 86_400_000) * 86_400_000 - 8 * 3_600_000;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const summary = await streamReadings(sim, targets, {
    start: today - daysBack * 86_400_000,
    speed,
    ...(days ? { days: Number(days) } : {}),
    signal: controller.signal,
    log,
  });
  log(`stopped: ${JSON.stringify(summary)}`);
}

main().catch((error: unknown) => {
  console.error(`[simulator] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
