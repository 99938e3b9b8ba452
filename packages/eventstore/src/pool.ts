import pg from 'pg';

export interface PoolSettings {
  connectionString: string;
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * A transaction left open holds back the global log's watermark for every reader on the
   * server, so an idle one is ended by PostgreSQL after this long.
   */
  idleInTransactionTimeoutMs?: number;
  statementTimeoutMs?: number;
}

export function createPool(settings: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max ?? 10,
    application_name: settings.applicationName,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs ?? 30_000,
    statement_timeout: settings.statementTimeoutMs ?? 60_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's connection can drop (server restart); the pool replaces it, the error
  // must not crash the process.
  pool.on('error', () => undefined);
  // So can a checked-out client's between two of its queries (a transaction waiting on other
  // work): the server's message then arrives with no query to fail, pg reports it only as the
  // client's 'error' event, which without a listener ends the process. The next query on that
  // client fails instead, and release discards it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs fn in a transaction on one client; rolls back and rethrows on error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** PostgreSQL error codes of a connection lost or refused: class 08, and the server stopping. */
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * Whether an error says the database cannot be reached (refused, cut, shutting down, starting)
 * rather than that the work itself failed: a consumer's message is not at fault, and a caller may
 * retry the same request later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) {
    return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|connection error|timeout exceeded when trying to connect/i.test(message)
  );
}
