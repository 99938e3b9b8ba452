import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { CLAIMS } from '../auth';
import { echoClient, echoService, type EchoResponse } from './test-support/echo';
import {
  AUTH,
  bearer,
  diagnosticsClient,
  failure,
  startServer,
  token,
  unary,
  type TestServer,
} from './test-support/fixtures';

const { Role } = park.diagnostics.v1;
type DiagnosticsClient = park.diagnostics.v1.DiagnosticsServiceClient;

let server: TestServer;
let client: DiagnosticsClient;
beforeAll(async () => {
  server = await startServer({ services: [echoService()] });
  client = diagnosticsClient(server.address);
});
afterAll(async () => {
  client.close();
  await server.stop();
});

const whoAmI = (metadata: grpc.Metadata) =>
  unary<park.diagnostics.v1.WhoAmIResponse>((done) => client.whoAmI({}, metadata, done));
const checkAccess = (metadata: grpc.Metadata, enterpriseId: string) =>
  unary<park.diagnostics.v1.CheckEnterpriseAccessResponse>((done) =>
    client.checkEnterpriseAccess({ enterpriseId }, metadata, done),
  );

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('a call without a valid token is UNAUTHENTICATED and says why', () => {
  it.each<[string, () => Promise<grpc.Metadata>, RegExp]>([
    ['no authorization header', async () => new grpc.Metadata(), /missing bearer token/],
    [
      'not a bearer token',
      async () => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', 'Basic dXNlcjpwYXNz');
        return metadata;
      },
      /authorization must be "Bearer <jwt>"/,
    ],
    [
      'an expired token',
      async () => bearer(await token({ role: 'operator', subject: 'op', ttlSeconds: -60 })),
      /token expired/,
    ],
    [
      'a token signed with another secret',
      async () =>
        bearer(
          await token(
            { role: 'operator', subject: 'op' },
            { ...AUTH, secret: 'another-secret-that-is-also-32-chars-long' },
          ),
        ),
      /signature is not valid/,
    ],
    [
      'an unsigned token (alg: none)',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const payload = {
          sub: 'mallory',
          iss: AUTH.issuer,
          aud: AUTH.audience,
          iat: now,
          exp: now + 3600,
          [CLAIMS.role]: 'operator',
        };
        // header.payload. with an empty signature, as an attacker would craft it.
        return bearer(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`);
      },
      /token algorithm is not allowed/,
    ],
    [
      'a token for another audience',
      async () =>
        bearer(
          await token({ role: 'operator', subject: 'op' }, { ...AUTH, audience: 'another-api' }),
        ),
      /claim aud is not valid/,
    ],
    [
      'a token from another issuer',
      async () =>
        bearer(await token({ role: 'operator', subject: 'op' }, { ...AUTH, issuer: 'evil' })),
      /claim iss is not valid/,
    ],
  ])('%s', async (_case, metadata, reason) => {
    const error = await failure(whoAmI(await metadata()));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toMatch(reason);
  });

  it('applies to every kind of call: unary, client, server and bidi streaming', async () => {
    const echo = echoClient(server.address);
    const none = new grpc.Metadata();
    const codeOf = (stream: grpc.ClientReadableStream<EchoResponse>) =>
      new Promise<number>((resolve) => {
        stream.on('data', () => undefined);
        stream.on('error', (error: grpc.ServiceError) => resolve(error.code));
        stream.on('end', () => resolve(grpc.status.OK));
      });
    const unaryCode = (await failure(unary((done) => echo.echo({ text: 'x' }, none, done)))).code;
    const clientStreamingCode = (
      await failure(
        unary<EchoResponse>((done) => {
          const call = echo.collect(none, done);
          call.write({ text: 'x' });
          call.end();
        }),
      )
    ).code;
    const serverStreamingCode = await codeOf(echo.expand({ text: 'xyz' }, none));
    const chat = echo.chat(none);
    chat.write({ text: 'x' });
    chat.end();
    const bidiCode = await codeOf(chat);
    echo.close();
    expect([unaryCode, clientStreamingCode, serverStreamingCode, bidiCode]).toEqual(
      Array(4).fill(grpc.status.UNAUTHENTICATED),
    );
  });
});

describe('a valid token reaches the handler as the principal', () => {
  it('WhoAmI answers with the token subject, role, enterprise and expiry', async () => {
    const jwt = await token({
      role: 'enterprise',
      subject: 'energy-manager',
      enterpriseId: 'ent-a',
    });
    const response = await whoAmI(bearer(jwt));
    expect(response).toMatchObject({
      subject: 'energy-manager',
      role: Role.ROLE_ENTERPRISE,
      enterpriseId: 'ent-a',
    });
    const exp = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    expect(response.expiresAt?.getTime()).toBe(exp.exp * 1000);
  });

  it('an enterprise token may check its own enterprise and no other', async () => {
    const metadata = bearer(
      await token({ role: 'enterprise', subject: 'u', enterpriseId: 'ent-a' }),
    );
    expect(await checkAccess(metadata, 'ent-a')).toEqual({ enterpriseId: 'ent-a' });
    const denied = await failure(checkAccess(metadata, 'ent-b'));
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.details).toBe('an enterprise token for ent-a cannot access enterprise ent-b');
  });

  it('an operator may check any enterprise; an integrator none', async () => {
    const operator = bearer(await token({ role: 'operator', subject: 'op' }));
    expect(await checkAccess(operator, 'ent-b')).toEqual({ enterpriseId: 'ent-b' });
    const integrator = bearer(await token({ role: 'integrator', subject: 'gw' }));
    expect((await failure(checkAccess(integrator, 'ent-b'))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it('CheckEnterpriseAccess without an enterprise id is INVALID_ARGUMENT naming the field', async () => {
    const operator = bearer(await token({ role: 'operator', subject: 'op' }));
    const error = await failure(checkAccess(operator, ''));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain('enterprise_id');
  });
});
