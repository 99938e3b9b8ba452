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
