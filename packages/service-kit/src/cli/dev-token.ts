// `npm run token -- --role operator` prints a development bearer token signed with JWT_SECRET.
// Production tokens come from the identity provider (JWT_JWKS_URL); this command refuses to run
// with NODE_ENV=production.
import { parseArgs } from 'node:util';
import { ROLES, signDevelopmentToken, type Role } from '../auth';

const USAGE = `usage: npm run token -- --role <${ROLES.join('|')}> [--enterprise <id>] [--subject <name>] [--ttl <seconds>]
environment: JWT_SECRET (required, >= 32 characters), JWT_ISSUER (park-dev), JWT_AUDIENCE (park)`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' },
      enterprise: { type: 'string' },
      subject: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return USAGE;
  if (env.NODE_ENV === 'production')
    throw new Error('development tokens are not issued with NODE_ENV=production');
  const role = values.role as Role | undefined;
  if (!role || !(ROLES as readonly string[]).includes(role))
    throw new Error(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
  if (role === 'enterprise' && !values.enterprise)
    throw new Error('an enterprise token needs --enterprise <id>');
  const secret = env.JWT_SECRET;
  if (!secret || secret.length < 32)
    throw new Error('set JWT_SECRET (at least 32 characters) to sign development tokens');
  const ttlSeconds = values.ttl === undefined ? 86_400 : Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new Error('--ttl must be a positive number of seconds');
  return signDevelopmentToken(
    { secret, issuer: env.JWT_ISSUER ?? 'park-dev', audience: env.JWT_AUDIENCE ?? 'park' },
    { role, subject: values.subject ?? `dev-${role}`, enterpriseId: values.enterprise, ttlSeconds },
  );
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (output) => process.stdout.write(`${output}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
