import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TokenVerifier } from '@park/service-kit';
import { certificatesFromCsv } from './commands/carbon';
import {
  Context,
  DEFAULT_ADDRESSES,
  developmentSecret,
  parseAddress,
  resolveSettings,
} from './context';
import { labelOf, parseEnumOf, parseUnit, unitLabel } from './enums';
import { describeServiceError, errorMessage, EXIT, UsageError } from './errors';
import { parseBound, parseRange } from './time';
import { captureIo, parkctl } from './test-support/io';

const SECRET = 'parkctl-test-secret-of-at-least-32-chars';

describe('global settings', () => {
  it('defaults to the README ports, table output and Asia/Shanghai', () => {
    const settings = resolveSettings({}, {});
    expect(settings).toEqual({
      output: 'table',
      addresses: DEFAULT_ADDRESSES,
      httpUrl: 'http://127.0.0.1:8081',
      tls: false,
      token: undefined,
      kafkaBrokers: ['127.0.0.1:9092'],
      timeoutMs: 30_000,
      timeZone: 'Asia/Shanghai',
    });
    expect(DEFAULT_ADDRESSES).toEqual({
      metering: '127.0.0.1:50051',
      carbon: '127.0.0.1:50052',
      dispatch: '127.0.0.1:50053',
      reporting: '127.0.0.1:50054',
    });
  });

  it('takes the environment, and options over the environment', () => {
    const env = {
      PARK_METERING_ADDR: 'metering.park:50051',
      PARK_CARBON_ADDR: 'carbon.park:443',
      PARK_METERING_HTTP: 'https://metering.park/',
      PARK_TOKEN: 'Bearer env-token',
      PARK_TLS: 'true',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      PARK_TIME_ZONE: 'europe/berlin',
    };
    const fromEnv = resolveSettings({}, env);
    expect(fromEnv).toMatchObject({
      addresses: { metering: 'metering.park:50051', carbon: 'carbon.park:443' },
      httpUrl: 'https://metering.park',
      token: 'env-token',
      tls: true,
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      timeZone: 'Europe/Berlin',
    });
    const fromOptions = resolveSettings(
      {
        metering: 'https://m.example:8443',
        token: 'flag-token',
        output: 'csv',
        timeout: '2.5',
        kafka: 'k9:9093',
      },
      { ...env, PARK_TLS: undefined },
    );
    expect(fromOptions).toMatchObject({
      addresses: { metering: 'm.example:8443' },
      tls: true, // https:// asks for TLS
      token: 'flag-token',
      output: 'csv',
      timeoutMs: 2_500,
      kafkaBrokers: ['k9:9093'],
    });
  });

  it('refuses what cannot be an address, URL, timeout or zone', () => {
    expect(() => parseAddress('localhost', '--metering')).toThrow(
      '--metering must be host:port, e.g. 127.0.0.1:50051 (not "localhost")',
    );
    expect(parseAddress('[::1]:50051', '--metering')).toEqual({
      address: '[::1]:50051',
      tls: false,
    });
    expect(() => resolveSettings({ http: 'ftp://x' }, {})).toThrow(/--http must be an http/);
    expect(() => resolveSettings({ timeout: '0' }, {})).toThrow(/--timeout must be a positive/);
    expect(() => resolveSettings({ tz: 'Mars/Olympus' }, {})).toThrow(/--tz must be an IANA/);
    expect(() => resolveSettings({ output: 'xml' }, {})).toThrow(UsageError);
  });
});

describe('argument values', () => {
  it('reads enums as typed or as their proto names', () => {
    expect(parseEnumOf('meterRole', 'grid_import', '--role')).toBe(1);
    expect(parseEnumOf('meterRole', 'GRID-IMPORT', '--role')).toBe(1);
    expect(parseEnumOf('meterRole', 'METER_ROLE_ONSITE_PV', '--role')).toBe(4);
    expect(labelOf('commodity', parseEnumOf('commodity', 'natural_gas', '--commodity'))).toBe(
      'natural_gas',
    );
    expect(() => parseEnumOf('resolution', 'week', '--resolution')).toThrow(
      '--resolution must be one of quarter_hour, hour, day, month (not "week")',
    );
    expect(() => parseEnumOf('meterRole', 'unspecified', '--role')).toThrow(UsageError);
    expect(unitLabel(parseUnit('kwh'))).toBe('kWh');
    expect(unitLabel(parseUnit('Nm3'))).toBe('Nm3');
    expect(unitLabel(parseUnit('UNIT_TCO2E'))).toBe('tCO2e');
    expect(() => parseUnit('btu')).toThrow(/--unit must be one of kWh, MWh/);
  });

  it('reads instants, and dates and months as midnight in the park zone; --to comes after --from', () => {
    const zone = 'Asia/Shanghai';
    expect(parseBound('2025-06-01T00:00:00Z', '--from', zone).toISOString()).toBe(
      '2025-06-01T00:00:00.000Z',
    );
    expect(parseBound('2025-06-01T08:00:00+08:00', '--from', zone).toISOString()).toBe(
      '2025-06-01T00:00:00.000Z',
    );
    expect(parseBound('2023-06-01', '--from', zone).toISOString()).toBe('2023-05-31T16:00:00.000Z');
    expect(parseBound('2023-07', '--to', zone).toISOString()).toBe('2023-06-30T16:00:00.000Z');
    expect(() => parseBound('2023-02-30', '--from', zone)).toThrow(/--from must be an RFC 3339/);
    expect(() => parseBound('2023-06-01T00:00:00', '--from', zone)).toThrow(UsageError);
    expect(() => parseRange('2023-07', '2023-06', zone)).toThrow(/--to \(2023-06\) must lie after/);
  });

  it('reads certificate files by their header, in any column order', () => {
    expect(
      certificatesFromCsv(
        'mwh,serial,generator_id,vintage\r\n1.5,GEC-1,pv-1,2023-05\n"2",GEC-2,"pv, roof",2023-06\n\n',
        'gecs.csv',
      ),
    ).toEqual([
      { serial: 'GEC-1', vintage: '2023-05', generatorId: 'pv-1', mwh: { value: '1.5' } },
      { serial: 'GEC-2', vintage: '2023-06', generatorId: 'pv, roof', mwh: { value: '2' } },
    ]);
    expect(() => certificatesFromCsv('serial,mwh\nA,1\n', 'g.csv')).toThrow(
      'g.csv: the header needs the columns serial,vintage,generator_id,mwh (missing vintage, generator_id)',
    );
    expect(() =>
      certificatesFromCsv('serial,vintage,generator_id,mwh\nA,2023-13,g,1\n', 'g.csv'),
    ).toThrow('g.csv line 2: vintage must be a month YYYY-MM (not "2023-13")');
    expect(() =>
      certificatesFromCsv('serial,vintage,generator_id,mwh\nA,2023-01,g,1e3\n', 'g.csv'),
    ).toThrow(/g.csv line 2: mwh must be a plain decimal/);
  });
});

describe('the command line', () => {
  it('prints help and exits 0', async () => {
    const help = await parkctl(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: parkctl [options] [command]');
    for (const command of [
      'token',
      'enterprises',
      'meters',
      'import',
      'series',
      'footprint',
      'certificates',
      'cbam',
      'plan',
      'kpis',
      'projections',
      'dlq',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const sub = await parkctl(['meters', 'register', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--rated-power-kw <kw>');
  });

  it('exits 2 on usage errors before calling anything, without a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['meters', 'lst'], /unknown command 'lst'[\s\S]*Did you mean list\?/],
      [['--output', 'xml', 'meters', 'list'], /argument 'xml' is invalid/],
      [['series', 'm-1', '--from', '2025-06-01'], /required option '--to <when>' not specified/],
      [
        ['series', 'm-1', '--from', 'yesterday', '--to', '2025-06-02'],
        /--from must be an RFC 3339/,
      ],
      [
        ['series', 'm-1', '--from', '2025-06-01', '--to', '2025-06-02', '--resolution', 'week'],
        /--resolution must be one of/,
      ],
      [['meters', 'list', '--metering', 'nohost'], /--metering must be host:port/],
      [
        ['kpis', 'park-1', '--granularity', 'day', '--period', '2025-06'],
        /--period of a day is YYYY-MM-DD/,
      ],
      [['plan', 'park-1', '2025-13-01'], /day must be a date YYYY-MM-DD/],
      [
        ['dlq', 'list', 'park.metering.readings.v1.dlq'],
        /name the original topic \(park.metering.readings.v1\)/,
      ],
      [['meters', 'get', 'm-1', 'extra'], /too many arguments/],
      [['token', '--role', 'enterprise'], /an enterprise token needs --enterprise/],
    ];
    for (const [argv, message] of cases) {
      const result = await parkctl(argv, { PARK_TOKEN: 'x' });
      expect({ argv, code: result.code }).toEqual({ argv, code: EXIT.usage });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });

  it('says how to get a token when there is none', async () => {
    const result = await parkctl(['meters', 'list'], { PARK_WORK_DIR: '/nonexistent' });
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toBe(
      'parkctl: no token: pass --token <jwt> or set PARK_TOKEN (development: set JWT_SECRET, or run `npm start` once, and parkctl signs an operator token)\n',
    );
  });

  it("signs with npm start's development secret when JWT_SECRET is not set", async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parkctl-work-'));
    try {
      fs.writeFileSync(path.join(workDir, 'dev-jwt-secret'), `${SECRET}\n`);
      expect(developmentSecret({ PARK_WORK_DIR: workDir })).toBe(SECRET);
      const ctx = new Context(resolveSettings({}, {}), {
        ...captureIo().io,
        env: { PARK_WORK_DIR: workDir },
      });
      const verifier = new TokenVerifier({ secret: SECRET, issuer: 'park-dev', audience: 'park' });
      expect(await verifier.verify(await ctx.token())).toMatchObject({
        role: 'operator',
        subject: 'parkctl',
      });
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('names the status and the address when a service cannot be reached', async () => {
    const result = await parkctl(
      ['--timeout', '5', 'enterprises', 'get', 'ent-1', '--metering', '127.0.0.1:1'],
      { PARK_TOKEN: 'x' },
    );
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/^parkctl: (UNAVAILABLE|DEADLINE_EXCEEDED): /);
    expect(result.stderr).not.toMatch(/Resolution note/);
  });

  it('signs development tokens the services accept, bare in a table and described in JSON', async () => {
    const env = { JWT_SECRET: SECRET };
    const bare = await parkctl(['token', '--role', 'enterprise', '--enterprise', 'ent-9'], env);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const verifier = new TokenVerifier({ secret: SECRET, issuer: 'park-dev', audience: 'park' });
    expect(await verifier.verify(bare.stdout.trim())).toMatchObject({
      role: 'enterprise',
      enterpriseId: 'ent-9',
      subject: 'dev-enterprise',
    });
    const json = await parkctl(['token', '--ttl', '60', '-o', 'json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ role: 'operator', subject: 'dev-operator' });
    const refused = await parkctl(['token'], { JWT_SECRET: 'short' });
    expect(refused).toMatchObject({ code: EXIT.failed });
    expect(refused.stderr).toMatch(/set JWT_SECRET \(at least 32 characters\)/);
    const production = await parkctl(['token'], { ...env, NODE_ENV: 'production' });
    expect(production.stderr).toMatch(/not issued with NODE_ENV=production/);
  });
});

/** google.rpc.Status{code, message, details: [Any(BadRequest)]}, encoded by hand. */
function badRequestStatus(code: number, message: string, violations: [string, string][]): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = [];
    while (n > 0x7f) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    return Buffer.from(bytes);
  };
  const field = (tag: number, body: Buffer) =>
    Buffer.concat([varint((tag << 3) | 2), varint(body.length), body]);
  const text = (tag: number, value: string) => field(tag, Buffer.from(value, 'utf8'));
  const badRequest = Buffer.concat(
    violations.map(([name, description]) =>
      field(1, Buffer.concat([text(1, name), text(2, description)])),
    ),
  );
  const any = Buffer.concat([
    text(1, 'type.googleapis.com/google.rpc.BadRequest'),
    field(2, badRequest),
  ]);
  return Buffer.concat([varint(1 << 3), varint(code), text(2, message), field(3, any)]);
}

function serviceError(code: number, details: string, metadata = new grpc.Metadata()) {
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata,
  }) as grpc.ServiceError;
}

describe('errors', () => {
  it('lists the field violations of the status details, once', () => {
    const violations: [string, string][] = [
      ['meter.unit', 'must be an energy unit'],
      ['meter.rated_power_kw', 'must be positive'],
    ];
    const message =
      'invalid argument: meter.unit: must be an energy unit; meter.rated_power_kw: must be positive';
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', badRequestStatus(3, message, violations));
    expect(
      describeServiceError(serviceError(grpc.status.INVALID_ARGUMENT, message, metadata)),
    ).toBe(
      'INVALID_ARGUMENT: the service refused 2 fields:\n' +
        '  meter.unit: must be an energy unit\n' +
        '  meter.rated_power_kw: must be positive',
    );
    // A message that says more than its violations is kept.
    const other = new grpc.Metadata();
    other.set(
      'grpc-status-details-bin',
      badRequestStatus(3, 'the batch', [['readings[0].value', 'missing']]),
    );
    expect(describeServiceError(serviceError(3, 'the batch is not valid', other))).toBe(
      'INVALID_ARGUMENT: the batch is not valid\n  readings[0].value: missing',
    );
    expect(
      describeServiceError(
        serviceError(grpc.status.FAILED_PRECONDITION, 'serial GEC-1 is retired'),
      ),
    ).toBe('FAILED_PRECONDITION: serial GEC-1 is retired');
  });

  it('a service error shows its status, message and hint; unexpected ones no stack', () => {
    const error = Object.assign(new Error('3 INVALID_ARGUMENT: bad'), {
      code: grpc.status.UNAUTHENTICATED,
      details: 'token expired',
      metadata: new grpc.Metadata(),
    }) as grpc.ServiceError;
    expect(describeServiceError(error)).toBe(
      'UNAUTHENTICATED: token expired\npass a token with --token or PARK_TOKEN (development: set JWT_SECRET to sign one)',
    );
    const bug = errorMessage(new TypeError('x is undefined'), false);
    expect(bug).toEqual({
      message: 'x is undefined\n(set PARKCTL_DEBUG=1 for details)',
      exitCode: EXIT.internal,
    });
    expect(errorMessage(new TypeError('x'), true).message).toMatch(/^TypeError: x\n\s+at /);
  });
});
