import {
  assertEnterpriseAccess,
  requireRole,
  signDevelopmentToken,
  TokenVerifier,
  type Principal,
} from './auth';
import { PermissionDeniedError } from './errors';

const settings = {
  secret: 'auth-test-secret-that-is-32-chars-long',
  issuer: 'park-dev',
  audience: 'park',
};
const verifier = new TokenVerifier(settings);
const principal = (role: Principal['role'], enterpriseId?: string): Principal => ({
  subject: 's',
  role,
  enterpriseId,
  expiresAt: new Date(Date.now() + 60_000),
});

it('verifies a development token into its principal', async () => {
  const token = await signDevelopmentToken(settings, {
    role: 'enterprise',
    subject: 'energy-manager',
    enterpriseId: 'ent-7',
    ttlSeconds: 600,
  });
  const verified = await verifier.verifyAuthorization(`Bearer ${token}`);
  expect(verified).toMatchObject({
    subject: 'energy-manager',
    role: 'enterprise',
    enterpriseId: 'ent-7',
  });
  // Expiry is whole seconds: within 600 s (+1 for rounding) of now.
  expect(Math.abs(verified.expiresAt.getTime() - (Date.now() + 600_000))).toBeLessThan(2_000);
});

it.each([
  ['a wrong issuer', { ...settings, issuer: 'someone-else' }, /claim iss/],
  ['a wrong audience', { ...settings, audience: 'other-app' }, /claim aud/],
  ['another secret', { ...settings, secret: 'another-secret-that-is-32-chars-long!' }, /signature/],
])('refuses a token signed with %s', async (_case, signer, message) => {
  const token = await signDevelopmentToken(signer, { role: 'operator', subject: 'x' });
  await expect(verifier.verify(token)).rejects.toThrow(message);
});

it('refuses an enterprise token without its enterprise id', async () => {
  const token = await signDevelopmentToken(settings, { role: 'enterprise', subject: 'x' });
  await expect(verifier.verify(token)).rejects.toThrow(/must carry park_enterprise_id/);
});

it('keeps enterprises apart and roles in their lanes', () => {
  expect(() => assertEnterpriseAccess(principal('operator'), 'ent-1')).not.toThrow();
  expect(() => assertEnterpriseAccess(principal('service'), 'ent-1')).not.toThrow();
  expect(() => assertEnterpriseAccess(principal('enterprise', 'ent-1'), 'ent-1')).not.toThrow();
  expect(() => assertEnterpriseAccess(principal('enterprise', 'ent-1'), 'ent-2')).toThrow(
    PermissionDeniedError,
  );
  expect(() => assertEnterpriseAccess(principal('integrator'), 'ent-1')).toThrow(
    PermissionDeniedError,
  );
  expect(() => requireRole(principal('integrator'), 'operator')).toThrow(
    /role integrator may not do this/,
  );
  expect(() => requireRole(principal('operator'), 'operator', 'service')).not.toThrow();
});

it('verifies RS256 tokens against the identity provider JWKS and refuses HS256 ones there', async () => {
  const { createServer } = await import('node:http');
  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  try {
    const jwks = new TokenVerifier({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer: 'https://idp.park',
      audience: 'park',
    });
    const token = await new SignJWT({ park_role: 'integrator' })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setSubject('gateway-3')
      .setIssuer('https://idp.park')
      .setAudience('park')
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await jwks.verify(token)).toMatchObject({ subject: 'gateway-3', role: 'integrator' });
    // A token signed with a shared secret is not accepted where the identity provider's keys rule.
    const hs = await signDevelopmentToken(
      { ...settings, issuer: 'https://idp.park' },
      { role: 'operator', subject: 'x' },
    );
    await expect(jwks.verify(hs)).rejects.toThrow(/algorithm is not allowed/);
  } finally {
    server.close();
  }
});
