import { TokenVerifier } from '../auth';
import { main } from './dev-token';

const env = { JWT_SECRET: 'cli-test-secret-that-is-32-chars-long!' };

it('prints a token the services accept', async () => {
  const token = await main(['--role', 'enterprise', '--enterprise', 'ent-9', '--ttl', '120'], env);
  const verifier = new TokenVerifier({
    secret: env.JWT_SECRET,
    issuer: 'park-dev',
    audience: 'park',
  });
  expect(await verifier.verify(token)).toMatchObject({
    role: 'enterprise',
    enterpriseId: 'ent-9',
    subject: 'dev-enterprise',
  });
});

it('says what is wrong', async () => {
  await expect(main(['--role', 'admin'], env)).rejects.toThrow(
    /--role must be one of operator, integrator, enterprise, service/,
  );
  await expect(main(['--role', 'enterprise'], env)).rejects.toThrow(/needs --enterprise/);
  await expect(main(['--role', 'operator'], {})).rejects.toThrow(/set JWT_SECRET/);
  await expect(main(['--role', 'operator'], { ...env, NODE_ENV: 'production' })).rejects.toThrow(
    /not issued/,
  );
});
