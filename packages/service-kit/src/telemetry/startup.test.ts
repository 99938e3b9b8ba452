import { spawnTsChild } from '@park/testing';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { traceMetadata } from '@park/eventstore';
import { createLogger } from '../logger';
import { startTelemetry } from './index';

type LogLine = Record<string, unknown>;

function capturedLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger({
    service: 'startup-test',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  return { logger, lines };
}

it('without an endpoint or exporter nothing is exported, yet log lines and event metadata carry the active trace', async () => {
  const telemetry = startTelemetry({
    serviceName: 'startup-test',
    serviceVersion: '0.0.0',
    instrumentations: [],
    env: {},
  });
  try {
    expect(telemetry.exporting).toBe(false);
    const { logger, lines } = capturedLogger();
    logger.info('before');
    const ids = await trace.getTracer('test').startActiveSpan('handle command', async (span) => {
      logger.info('inside');
      // The context survives an await: AsyncLocalStorage, not a stack.
      await sleep(5);
      logger.info('after an await');
      const metadata = traceMetadata();
      span.end();
      return { ...span.spanContext(), metadata };
    });
    logger.info('after');

    expect(lines.map((line) => [line.msg, line.trace_id, line.span_id])).toEqual([
      ['before', undefined, undefined],
      ['inside', ids.traceId, ids.spanId],
      ['after an await', ids.traceId, ids.spanId],
      ['after', undefined, undefined],
    ]);
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    // What EventStore.append stores and the relay copies into the Kafka traceparent header.
    expect(ids.metadata).toEqual({ traceparent: `00-${ids.traceId}-${ids.spanId}-01` });
    expect(traceMetadata()).toEqual({});
  } finally {
    await telemetry.shutdown();
  }

  // Shut down, the process is back to the API's no-ops, and telemetry can start again.
  trace.getTracer('test').startActiveSpan('untraced', (span) => {
    expect(span.isRecording()).toBe(false);
    expect(traceMetadata()).toEqual({});
    span.end();
  });
  const again = startTelemetry({
    serviceName: 'again',
    serviceVersion: '0',
    instrumentations: [],
    env: {},
  });
  expect(() =>
    startTelemetry({ serviceName: 'twice', serviceVersion: '0', instrumentations: [] }),
  ).toThrow(/already started/);
  await again.shutdown();
});

it('exports spans over OTLP/HTTP in batches, and shutdown flushes the ones not yet sent', async () => {
  const received: { url: string; contentType: string; body: string }[] = [];
  const collector = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        url: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString(),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const { port } = collector.address() as AddressInfo;
  try {
    const child = spawnTsChild(path.join(__dirname, 'otlp-export.child.ts'), {
      CHILD_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
    });
    const messages: unknown[] = [];
    child.on('message', (message) => messages.push(message));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(messages).toEqual([{ exporting: true }]);

    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/v1/traces');
    expect(received[0]!.contentType).toBe('application/json');
    const body = received[0]!.body;
    expect(body).toContain('"exported work"');
    expect(body).toContain('"exporting-service"');
    expect(body).toContain('"1.2.3"');
  } finally {
    collector.close();
  }
}, 60_000);
