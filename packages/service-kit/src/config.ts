import { z } from 'zod';

/** Every missing or invalid variable at once, so one failed start tells the operator all of it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
  }
}

const port = z.coerce.number().int().min(0).max(65_535);
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.map((p) => p.replace(':', '')).join(' or ')})` },
  );

/** The variables every park service reads; a service extends this with its own. */
export const serviceConfigSchema = z
  .object({
    SERVICE_NAME: z.string().min(1),
    SERVICE_VERSION: z.string().default('0.1.0'),
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    GRPC_PORT: port.default(50051),
    HTTP_PORT: port.default(8080),
    GRPC_HOST: z.string().default('0.0.0.0'),
    HTTP_HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .refine((value) => value.split(',').every((b) => /^[^\s:]+:\d+$/.test(b.trim())), {
        message: 'must be host:port[,host:port...]',
      }),
    REDIS_URL: url(['redis:', 'rediss:']),
    /** HS256 secret for development; production uses JWT_JWKS_URL. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_JWKS_URL: url(['https:', 'http:']).optional(),
    JWT_ISSUER: z.string().min(1).default('park-dev'),
    JWT_AUDIENCE: z.string().min(1).default('park'),
    OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(20_000),
  })
  .superRefine((config, context) => {
    if (!config.JWT_SECRET && !config.JWT_JWKS_URL) {
      context.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'set JWT_SECRET (development) or JWT_JWKS_URL',
      });
    }
    if (config.NODE_ENV === 'production' && config.JWT_SECRET && !config.JWT_JWKS_URL) {
      context.addIssue({
        code: 'custom',
        path: ['JWT_JWKS_URL'],
        message: 'production verifies tokens against the identity provider: set JWT_JWKS_URL',
      });
    }
  });

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** Parses the environment with a zod schema; throws one ConfigError naming every problem. */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<Schema> {
  // Empty strings count as unset, as an operator expects of `FOO=` in an env file.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      message:
        issue.code === 'invalid_type' && issue.input === undefined
          ? 'is required but not set'
          : issue.message,
    })),
  );
}

/** loadConfig for a process entry point: prints the ConfigError and exits 78 (EX_CONFIG). */
export function loadConfigOrExit<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<Schema> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}
