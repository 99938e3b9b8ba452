// `parkctl token`: a development bearer token signed with JWT_SECRET, as `npm run token` makes.
import { ROLES, signDevelopmentToken, type Role } from '@park/service-kit';
import { CliError, UsageError } from '../errors';
import type { View } from '../output';

export interface TokenOptions {
  role?: string;
  enterprise?: string;
  subject?: string;
  ttl?: string;
}

export async function tokenCommand(options: TokenOptions, env: NodeJS.ProcessEnv): Promise<View> {
  if (env.NODE_ENV === 'production') {
    throw new CliError('development tokens are not issued with NODE_ENV=production');
  }
  const role = (options.role ?? 'operator') as Role;
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(', ')} (not "${options.role}")`);
  }
  if (role === 'enterprise' && !options.enterprise) {
    throw new UsageError('an enterprise token needs --enterprise <id>');
  }
  if (role !== 'enterprise' && options.enterprise) {
    throw new UsageError('--enterprise goes with --role enterprise only');
  }
  const ttlSeconds = options.ttl === undefined ? 86_400 : Number(options.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new UsageError(`--ttl must be a positive whole number of seconds (not "${options.ttl}")`);
  }
  const secret = env.JWT_SECRET;
  if (!secret || secret.length < 32) {
    throw new CliError('set JWT_SECRET (at least 32 characters) to sign development tokens');
  }
  const subject = options.subject ?? `dev-${role}`;
  const token = await signDevelopmentToken(
    { secret, issuer: env.JWT_ISSUER ?? 'park-dev', audience: env.JWT_AUDIENCE ?? 'park' },
    { role, subject, enterpriseId: options.enterprise, ttlSeconds },
  );
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const columns = [{ key: 'token' }];
  return {
    json: { token, role, subject, enterpriseId: options.enterprise, expiresAt },
    // The token alone on stdout (TOKEN=$(parkctl token)); CSV keeps a header.
    sections: [{ columns, rows: [{ token }] }],
    rawTable: `${token}\n`,
  };
}
