import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { create, equals, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { descriptorSetPath } from '@park/contracts';
import { builtinFiles, reflectionMessages, type ReflectionVersion } from './grpc-protos';
import { echoService } from './test-support/echo';
import { CONFIG, startServer, token, type TestServer } from './test-support/fixtures';

const run = promisify(execFile);
const buf = path.resolve(__dirname, '../../../../node_modules/.bin/buf');

/** A described service the server does not implement: reflection must not list it. */
const unregistered = create(FileDescriptorProtoSchema, {
  name: 'park/test/v1/unregistered.proto',
  package: 'park.test.v1',
  syntax: 'proto3',
  dependency: ['park/diagnostics/v1/diagnostics.proto'],
  service: [
    {
      name: 'UnregisteredService',
      method: [
        {
          name: 'Ping',
          inputType: '.park.diagnostics.v1.PingRequest',
          outputType: '.park.diagnostics.v1.PingResponse',
        },
      ],
    },
  ],
});

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    // The echo service has no descriptors: served, but reflection cannot describe it.
    services: [echoService()],
    descriptorSets: [
      fs.readFileSync(descriptorSetPath),
      toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [unregistered] })),
    ],
  });
});
afterAll(() => server.stop());

async function bufCurl(args: string[]): Promise<string> {
  const { stdout } = await run(
    buf,
    ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args],
    {
      timeout: 30_000,
    },
  );
  return stdout;
}

describe('buf curl with server reflection and no proto files', () => {
  it.each<[ReflectionVersion, string]>([
    ['v1', 'grpc-v1'],
    ['v1alpha', 'grpc-v1alpha'],
  ])('lists the registered methods over reflection %s', async (_version, protocol) => {
    const stdout = await bufCurl([
      '--list-methods',
      '--reflect-protocol',
      protocol,
      `http://${server.address}`,
    ]);
    expect(stdout.trim().split('\n').sort()).toEqual([
      'grpc.health.v1.Health/Check',
      'grpc.health.v1.Health/List',
      'grpc.health.v1.Health/Watch',
      'grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
      'park.diagnostics.v1.DiagnosticsService/CheckEnterpriseAccess',
      'park.diagnostics.v1.DiagnosticsService/Ping',
      'park.diagnostics.v1.DiagnosticsService/WhoAmI',
    ]);
  });

  it('calls Ping with a token and decodes its google.protobuf.Timestamp', async () => {
    const jwt = await token({ role: 'operator', subject: 'op-1' });
    const before = Date.now();
    const stdout = await bufCurl([
      '-H',
      `authorization: Bearer ${jwt}`,
      '-d',
      '{}',
      `http://${server.address}/park.diagnostics.v1.DiagnosticsService/Ping`,
    ]);
    const response = JSON.parse(stdout) as { service: string; version: string; serverTime: string };
    expect(response.service).toBe(CONFIG.SERVICE_NAME);
    expect(response.version).toBe(CONFIG.SERVICE_VERSION);
    // protojson renders a Timestamp as RFC 3339 in UTC.
    expect(response.serverTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const serverTime = Date.parse(response.serverTime);
    expect(serverTime).toBeGreaterThanOrEqual(before - 1_000);
    expect(serverTime).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('calls WhoAmI: the enum and the expiry come back by name and as a timestamp', async () => {
    const jwt = await token({ role: 'enterprise', subject: 'ent-user', enterpriseId: 'ent-42' });
    const stdout = await bufCurl([
      '-H',
      `authorization: Bearer ${jwt}`,
      `http://${server.address}/park.diagnostics.v1.DiagnosticsService/WhoAmI`,
    ]);
    const response = JSON.parse(stdout) as Record<string, string>;
    expect(response).toMatchObject({
      subject: 'ent-user',
      role: 'ROLE_ENTERPRISE',
      enterpriseId: 'ent-42',
    });
    // signDevelopmentToken's default lifetime is one day.
    expect(Date.parse(response.expiresAt!) - Date.now()).toBeGreaterThan(86_000_000);
  });

  it('reports UNAUTHENTICATED through buf curl when the token is missing', async () => {
    const failed = await bufCurl([
      `http://${server.address}/park.diagnostics.v1.DiagnosticsService/Ping`,
    ]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    // buf curl exits with the gRPC code shifted left by three bits.
    expect(failed?.code).toBe(grpc.status.UNAUTHENTICATED << 3);
    expect(failed?.stderr).toContain('missing bearer token');
  });
});

describe('the reflection protocol', () => {
  interface Answer {
    files?: FileDescriptorProto[];
    error?: { code: number; message: string };
    services?: string[];
    extensionNumbers?: number[];
    validHost: string;
  }

  /** Sends the requests on one stream and decodes the answers, in order. */
  function ask(version: ReflectionVersion, requests: Record<string, unknown>[]): Promise<Answer[]> {
    const { request, response } = reflectionMessages(version);
    const Client = grpc.makeGenericClientConstructor(
      {
        info: {
          path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
          requestStream: true,
          responseStream: true,
          requestSerialize: (value: Record<string, unknown>) =>
            Buffer.from(toBinary(request, create(request, value))),
          requestDeserialize: (bytes: Buffer) => fromBinary(request, bytes),
          responseSerialize: (value: Message) => Buffer.from(toBinary(response, value)),
          responseDeserialize: (bytes: Buffer) => fromBinary(response, bytes),
        },
      },
      'ServerReflection',
    );
    const client = new Client(server.address, grpc.credentials.createInsecure()) as unknown as {
      info(): grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;
      close(): void;
    };
    return new Promise((resolve, reject) => {
      const answers: Answer[] = [];
      const stream = client.info();
      stream.on('data', (message: Record<string, unknown>) => {
        const { case: kind, value } = message.messageResponse as {
          case: string;
          value: Record<string, unknown>;
        };
        const answer: Answer = { validHost: message.validHost as string };
        if (kind === 'fileDescriptorResponse') {
          answer.files = (value.fileDescriptorProto as Uint8Array[]).map((bytes) =>
            fromBinary(FileDescriptorProtoSchema, bytes),
          );
        } else if (kind === 'errorResponse') {
          answer.error = { code: value.errorCode as number, message: value.errorMessage as string };
        } else if (kind === 'listServicesResponse') {
          answer.services = (value.service as { name: string }[]).map((s) => s.name);
        } else if (kind === 'allExtensionNumbersResponse') {
          answer.extensionNumbers = value.extensionNumber as number[];
        }
        answers.push(answer);
      });
      stream.on('error', reject);
      stream.on('end', () => {
        client.close();
        resolve(answers);
      });
      for (const message of requests) stream.write(message);
      stream.end();
    });
  }

  const symbol = (name: string) => ({
    host: 'park.example',
    messageRequest: { case: 'fileContainingSymbol', value: name },
  });

  it('lists only the services the server registered and described, plus health and reflection', async () => {
    const [answer] = await ask('v1', [{ messageRequest: { case: 'listServices', value: '' } }]);
    expect(answer!.services).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'park.diagnostics.v1.DiagnosticsService',
    ]);
  });

  it.each([
    'park.diagnostics.v1.DiagnosticsService',
    'park.diagnostics.v1.DiagnosticsService.Ping',
    'park.diagnostics.v1.PingResponse',
    'park.diagnostics.v1.Role',
    'park.diagnostics.v1.ROLE_OPERATOR',
    'park.diagnostics.v1.WhoAmIResponse.expires_at',
    '.park.diagnostics.v1.PingRequest',
  ])('answers file_containing_symbol %s with the file first, then its imports', async (name) => {
    const [answer] = await ask('v1', [symbol(name)]);
    expect(answer!.validHost).toBe('park.example');
    expect(answer!.files!.map((f) => f.name)).toEqual([
      'park/diagnostics/v1/diagnostics.proto',
      'google/protobuf/timestamp.proto',
    ]);
  });

  it('finds nested types and serves the built-in files with their map entries', async () => {
    const [nested, health] = await ask('v1alpha', [
      symbol('grpc.health.v1.HealthCheckResponse.ServingStatus'),
      symbol('grpc.health.v1.HealthListResponse.StatusesEntry'),
    ]);
    expect(nested!.files!.map((f) => f.name)).toEqual(['grpc/health/v1/health.proto']);
    expect(health!.files![0]!.messageType[1]!.nestedType[0]!.options?.mapEntry).toBe(true);
  });

  it('answers file_by_filename with transitive imports, each once, and keeps the stream open after errors', async () => {
    const answers = await ask('v1', [
      { messageRequest: { case: 'fileByFilename', value: 'park/common/v1/interval.proto' } },
      symbol('park.nothing.v1.Missing'),
      { messageRequest: { case: 'fileByFilename', value: 'park/common/v1/quantity.proto' } },
      { messageRequest: { case: 'fileByFilename', value: 'no/such/file.proto' } },
      symbol('park.test.v1.UnregisteredService'),
      {},
    ]);
    expect(answers.map((a) => a.files?.map((f) => f.name) ?? a.error)).toEqual([
      ['park/common/v1/interval.proto', 'google/protobuf/timestamp.proto'],
      { code: grpc.status.NOT_FOUND, message: 'symbol park.nothing.v1.Missing not found' },
      ['park/common/v1/quantity.proto', 'park/common/v1/decimal.proto'],
      { code: grpc.status.NOT_FOUND, message: 'file no/such/file.proto not found' },
      // Described though not served: its schema is still the truth about the name.
      [
        'park/test/v1/unregistered.proto',
        'park/diagnostics/v1/diagnostics.proto',
        'google/protobuf/timestamp.proto',
      ],
      { code: grpc.status.INVALID_ARGUMENT, message: 'the request sets none of message_request' },
    ]);
  });

  it('answers the extension queries: no extensions in the contracts', async () => {
    const answers = await ask('v1', [
      {
        messageRequest: {
          case: 'allExtensionNumbersOfType',
          value: 'park.diagnostics.v1.PingRequest',
        },
      },
      { messageRequest: { case: 'allExtensionNumbersOfType', value: 'park.nothing.v1.Missing' } },
      {
        messageRequest: {
          case: 'fileContainingExtension',
          value: { containingType: 'park.diagnostics.v1.PingRequest', extensionNumber: 100 },
        },
      },
    ]);
    expect(answers[0]!.extensionNumbers).toEqual([]);
    expect(answers[1]!.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(answers[2]!.error?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('serves the contracts exactly as buf built them', async () => {
    const built = fromBinary(FileDescriptorSetSchema, fs.readFileSync(descriptorSetPath));
    const [answer] = await ask('v1', [symbol('park.diagnostics.v1.DiagnosticsService')]);
    const served = answer!.files![0]!;
    const original = built.file.find((f) => f.name === served.name)!;
    expect(equals(FileDescriptorProtoSchema, served, original)).toBe(true);
  });
});

it('the hand-written health and reflection descriptors equal what buf compiles from the published protos', async () => {
  // Copied out of the workspace: the repository's buf.yaml knows only proto/.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-protos-'));
  try {
    fs.cpSync(path.join(__dirname, 'test-support', 'published-protos'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'buf.yaml'), 'version: v2\n');
    const out = path.join(dir, 'out.binpb');
    await run(buf, ['build', '--exclude-source-info', '-o', out], { cwd: dir, timeout: 30_000 });
    const compiled = fromBinary(FileDescriptorSetSchema, fs.readFileSync(out)).file;
    expect(compiled.map((f) => f.name).sort()).toEqual(builtinFiles.map((f) => f.name).sort());
    for (const file of builtinFiles) {
      const theirs = compiled.find((f) => f.name === file.name)!;
      expect({ name: file.name, equal: equals(FileDescriptorProtoSchema, file, theirs) }).toEqual({
        name: file.name,
        equal: true,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
