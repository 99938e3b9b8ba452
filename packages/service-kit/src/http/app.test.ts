import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { createPool } from '@park/eventstore';
import { testInfrastructure } from '@park/testing';
import { signDevelopmentToken, TokenVerifier } from '../auth';
import { PreconditionError, ValidationError } from '../errors';
import { createLogger } from '../logger';
import { dependencyChecks, Readiness } from '../readiness';
import { createHttpApp, principalOf } from './app';

const auth = {
  secret: 'http-test-secret-that-is-32-chars-long',
  issuer: 'park-dev',
  audience: 'park',
};
const logLines: Record<string, unknown>[] = [];
const logger = createLogger({
  service: 'http-test',
  level: 'error',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  }),
});

const goodPool = () => createPool({ connectionString: testInfrastructure().postgresUrl, max: 1 });
// Nothing listens on port 1: a dependency that does not answer.
const deadPool = () =>
  createPool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', max: 1 });

async function serve(pool: ReturnType<typeof createPool>) {
  const readiness = new Readiness([dependencyChecks.postgres(pool)], {
    intervalMs: 60_000,
    timeoutMs: 1_000,
  });
  await readiness.start();
  const app = createHttpApp({
    readiness,
    verifier: new TokenVerifier(auth),
    logger,
    metrics: {
      render: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'park_up 1\n' }),
    },
    jsonLimit: '1kb',
    publicRoutes(router) {
      router.get('/page/', (_request, response) => {
        response.type('text/html').send('<p>a page</p>');
      });
    },
    routes(router) {
      router.get('/v1/whoami', (request, response) => {
        response.json(principalOf(request));
      });
      router.post('/v1/readings', (request) => {
        const body = request.body as { value?: unknown };
        if (typeof body.value !== 'string')
          throw ValidationError.field('value', 'must be a decimal string');
        throw new PreconditionError('period 2026-10 is closed');
      });
      router.get('/v1/boom', () => {
        throw new Error('connection to secret-host:5432 failed, password=hunter2');
      });
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    async close() {
      readiness.stop();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}

describe('HTTP app of the service kit', () => {
  let http: Awaited<ReturnType<typeof serve>>;
  let operator: string;
  beforeAll(async () => {
    http = await serve(goodPool());
    operator = await signDevelopmentToken(auth, { role: 'operator', subject: 'alice' });
  });
  afterAll(() => http.close());

  it('answers /healthz, /readyz and /metrics without a token', async () => {
    expect((await fetch(`${http.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${http.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      dependencies: { postgres: { ok: true } },
    });
    const metrics = await fetch(`${http.base}/metrics`);
    expect(await metrics.text()).toBe('park_up 1\n');
  });

  it('refuses a route without a valid token with 401 problem+json', async () => {
    const response = await fetch(`${http.base}/v1/whoami`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/missing bearer token/),
    });
    const forged = await fetch(`${http.base}/v1/whoami`, {
      headers: { authorization: `Bearer ${operator.slice(0, -2)}xx` },
    });
    expect(forged.status).toBe(401);
  });

  it('serves public routes without a token, and nothing else beside them', async () => {
    const page = await fetch(`${http.base}/page/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<p>a page</p>');
    expect((await fetch(`${http.base}/page/other`)).status).toBe(401);
    expect((await fetch(`${http.base}/v1/whoami`)).status).toBe(401);
  });

  it('hands the verified principal to the route', async () => {
    const response = await fetch(`${http.base}/v1/whoami`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(await response.json()).toMatchObject({ subject: 'alice', role: 'operator' });
  });

  it('answers bad input with 400 naming the field, oversized bodies with 413, state conflicts with 409', async () => {
    const headers = { authorization: `Bearer ${operator}`, 'content-type': 'application/json' };
    const bad = await fetch(`${http.base}/v1/readings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ value: 12.5 }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      violations: [{ field: 'value', description: 'must be a decimal string' }],
    });
    const malformed = await fetch(`${http.base}/v1/readings`, {
      method: 'POST',
      headers,
      body: '{"value":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ violations: [{ field: 'body' }] });
    const large = await fetch(`${http.base}/v1/readings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ value: 'x'.repeat(2_000) }),
    });
    expect(large.status).toBe(413);
    const closed = await fetch(`${http.base}/v1/readings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ value: '1' }),
    });
    expect(closed.status).toBe(409);
    expect(await closed.json()).toMatchObject({ detail: 'period 2026-10 is closed' });
  });

  it('logs an internal error with its trace id and tells the caller nothing else', async () => {
    const response = await fetch(`${http.base}/v1/boom`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/hunter2|secret-host/);
    const { traceId } = JSON.parse(text) as { traceId: string };
    expect(
      logLines.some((line) => line.traceId === traceId && JSON.stringify(line).includes('hunter2')),
    ).toBe(true);
  });

  it('answers an unknown path with 404 problem+json', async () => {
    const response = await fetch(`${http.base}/v1/nothing`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      status: 404,
      detail: 'no route for GET /v1/nothing',
    });
  });
});

it('reports not ready with 503 while PostgreSQL does not answer', async () => {
  const http = await serve(deadPool());
  try {
    const response = await fetch(`${http.base}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      ready: false,
      dependencies: { postgres: { ok: false } },
    });
  } finally {
    await http.close();
  }
});
