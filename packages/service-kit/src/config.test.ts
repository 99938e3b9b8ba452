import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ConfigError, loadConfig, serviceConfigSchema } from './config';

const valid = {
  SERVICE_NAME: 'metering',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/park_metering',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'a-development-secret-of-32-chars!!',
};

it('reads a valid environment with defaults applied', () => {
  const config = loadConfig(serviceConfigSchema, { ...valid, GRPC_PORT: '7001' });
  expect(config).toMatchObject({
    SERVICE_NAME: 'metering',
    GRPC_PORT: 7001,
    HTTP_PORT: 8080,
    JWT_AUDIENCE: 'park',
  });
});

it('names every missing and invalid variable in one error', () => {
  const { DATABASE_URL: _db, KAFKA_BROKERS: _kafka, ...rest } = valid;
  let caught: unknown;
  try {
    loadConfig(serviceConfigSchema, { ...rest, GRPC_PORT: 'seventy' });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const problems = (caught as ConfigError).problems;
  expect(problems.map((p) => p.variable).sort()).toEqual([
    'DATABASE_URL',
    'GRPC_PORT',
    'KAFKA_BROKERS',
  ]);
  expect((caught as Error).message).toMatch(/DATABASE_URL: is required but not set/);
  expect((caught as Error).message).toMatch(/KAFKA_BROKERS: is required but not set/);
  expect((caught as Error).message).toMatch(/GRPC_PORT: /);
});

it('treats empty values as unset and checks formats', () => {
  expect(() => loadConfig(serviceConfigSchema, { ...valid, REDIS_URL: '' })).toThrow(
    /REDIS_URL: is required/,
  );
  expect(() => loadConfig(serviceConfigSchema, { ...valid, KAFKA_BROKERS: 'kafka' })).toThrow(
    /KAFKA_BROKERS: must be host:port/,
  );
  expect(() => loadConfig(serviceConfigSchema, { ...valid, DATABASE_URL: 'mysql://x' })).toThrow(
    /DATABASE_URL: must be a URL/,
  );
  expect(() => loadConfig(serviceConfigSchema, { ...valid, JWT_SECRET: undefined })).toThrow(
    /JWT_SECRET: set JWT_SECRET/,
  );
  expect(() => loadConfig(serviceConfigSchema, { ...valid, NODE_ENV: 'production' })).toThrow(
    /JWT_JWKS_URL/,
  );
});

it('a process started with two required variables missing and one invalid exits 78 naming all three', () => {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...rest } = valid;
  const result = spawnSync(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', path.join(__dirname, 'config.child.ts')],
    { env: { PATH: process.env.PATH, ...rest, HTTP_PORT: '99999' }, encoding: 'utf8' },
  );
  expect(result.status).toBe(78);
  expect(result.stderr).toMatch(/invalid configuration \(3 problems\)/);
  for (const variable of ['DATABASE_URL', 'REDIS_URL', 'HTTP_PORT'])
    expect(result.stderr).toContain(`- ${variable}:`);
});
