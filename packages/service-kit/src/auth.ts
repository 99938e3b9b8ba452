import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { PermissionDeniedError, UnauthenticatedError } from './errors';

export const ROLES = ['operator', 'integrator', 'enterprise', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** The caller, as established from a verified bearer token. */
export interface Principal {
  subject: string;
  role: Role;
  /** Set for the enterprise role only: the one enterprise whose data it may see. */
  enterpriseId?: string;
  expiresAt: Date;
}

/** Custom claims the park's tokens carry besides sub, iss, aud and exp. */
export const CLAIMS = { role: 'park_role', enterpriseId: 'park_enterprise_id' } as const;

export interface AuthSettings {
  issuer: string;
  audience: string;
  /** HS256 shared secret (development). */
  secret?: string;
  /** JWKS of the identity provider (production); RS256 and ES256 keys. */
  jwksUrl?: string;
}

/** Verifies bearer tokens: signature, algorithm, issuer, audience and expiry, then the roles. */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly settings: AuthSettings) {
    if (settings.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(settings.jwksUrl));
      this.algorithms = ['RS256', 'ES256', 'PS256'];
    } else if (settings.secret) {
      this.key = new TextEncoder().encode(settings.secret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('token verification needs a JWKS URL or an HS256 secret');
    }
  }

  /** The principal of an Authorization header value; UnauthenticatedError says what is wrong. */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header)
      throw new UnauthenticatedError('missing bearer token (authorization: Bearer <jwt>)');
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match) throw new UnauthenticatedError('authorization must be "Bearer <jwt>"');
    return this.verify(match[1]!);
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as Uint8Array, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw new UnauthenticatedError(describeTokenError(error));
    }
    const role = payload[CLAIMS.role];
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new UnauthenticatedError(
        `token has no valid ${CLAIMS.role} claim (one of ${ROLES.join(', ')})`,
      );
    }
    const enterpriseId = payload[CLAIMS.enterpriseId];
    if (role === 'enterprise' && (typeof enterpriseId !== 'string' || enterpriseId === '')) {
      throw new UnauthenticatedError(`an enterprise token must carry ${CLAIMS.enterpriseId}`);
    }
    return {
      subject: payload.sub!,
      role: role as Role,
      enterpriseId: role === 'enterprise' ? (enterpriseId as string) : undefined,
      expiresAt: new Date(payload.exp! * 1000),
    };
  }
}

function describeTokenError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'token signature is not valid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `token claim ${error.claim} is not valid: ${error.reason}`;
  if (error instanceof joseErrors.JOSEError) return `token is not valid (${error.code})`;
  return 'token is not valid';
}

/** Refuses callers whose role is not among the allowed ones. */
export function requireRole(principal: Principal, ...allowed: Role[]): void {
  if (!allowed.includes(principal.role)) {
    throw new PermissionDeniedError(
      `role ${principal.role} may not do this (allowed: ${allowed.join(', ')})`,
    );
  }
}

/** Operators and services see every enterprise; an enterprise token only its own. */
export function assertEnterpriseAccess(principal: Principal, enterpriseId: string): void {
  if (principal.role === 'operator' || principal.role === 'service') return;
  if (principal.role === 'enterprise' && principal.enterpriseId === enterpriseId) return;
  throw new PermissionDeniedError(
    principal.role === 'enterprise'
      ? `an enterprise token for ${principal.enterpriseId} cannot access enterprise ${enterpriseId}`
      : `role ${principal.role} cannot read enterprise data`,
  );
}

export interface TokenRequest {
  role: Role;
  subject: string;
  enterpriseId?: string;
  /** Lifetime in seconds; one day by default. */
  ttlSeconds?: number;
}

/** Signs an HS256 token for development and tests; production tokens come from the identity provider. */
export async function signDevelopmentToken(
  settings: AuthSettings,
  request: TokenRequest,
): Promise<string> {
  if (!settings.secret) throw new Error('development tokens need JWT_SECRET');
  const claims: JWTPayload = { [CLAIMS.role]: request.role };
  if (request.enterpriseId) claims[CLAIMS.enterpriseId] = request.enterpriseId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.subject)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (request.ttlSeconds ?? 86_400))
    .sign(new TextEncoder().encode(settings.secret));
}
