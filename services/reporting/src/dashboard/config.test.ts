import { ConfigError, loadConfig } from '@park/service-kit';
import { reportingConfigSchema } from '../server';

/** The dashboard's development sign-in: off unless asked for, and never in production. */

const BASE = {
  SERVICE_NAME: 'reporting',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/park_reporting',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'a-development-secret-of-32-characters',
};

function problems(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(reportingConfigSchema, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

it('is off by default, and on when asked for', () => {
  expect(loadConfig(reportingConfigSchema, BASE).REPORTING_DASHBOARD_DEV_SIGN_IN).toBe(false);
  expect(
    loadConfig(reportingConfigSchema, { ...BASE, REPORTING_DASHBOARD_DEV_SIGN_IN: 'true' })
      .REPORTING_DASHBOARD_DEV_SIGN_IN,
  ).toBe(true);
  expect(problems({ ...BASE, REPORTING_DASHBOARD_DEV_SIGN_IN: 'yes' })).toEqual([
    expect.objectContaining({ variable: 'REPORTING_DASHBOARD_DEV_SIGN_IN' }),
  ]);
});

it('refuses to start with it in production', () => {
  expect(
    problems({
      ...BASE,
      NODE_ENV: 'production',
      JWT_JWKS_URL: 'https://idp.example/jwks.json',
      REPORTING_DASHBOARD_DEV_SIGN_IN: 'true',
    }),
  ).toEqual([
    {
      variable: 'REPORTING_DASHBOARD_DEV_SIGN_IN',
      message: 'development sign-in hands out tokens to anyone: never with NODE_ENV=production',
    },
  ]);
});

it('needs the HS256 secret it signs with', () => {
  const { JWT_SECRET: _secret, ...withoutSecret } = BASE;
  expect(
    problems({
      ...withoutSecret,
      JWT_JWKS_URL: 'https://idp.example/jwks.json',
      REPORTING_DASHBOARD_DEV_SIGN_IN: 'true',
    }),
  ).toEqual([
    {
      variable: 'REPORTING_DASHBOARD_DEV_SIGN_IN',
      message: 'development sign-in signs tokens with JWT_SECRET: set it',
    },
  ]);
});
