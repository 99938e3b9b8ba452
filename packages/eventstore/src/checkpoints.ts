import type { Pool, PoolClient } from 'pg';
import { LOG_START, type LogPosition } from './types';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Durable positions of processors in the global log. */
export const checkpoints = {
  async load(db: Queryable, processor: string, forUpdate = false): Promise<LogPosition> {
    await db.query(
      'INSERT INTO processor_checkpoints (processor) VALUES ($1) ON CONFLICT DO NOTHING',
      [processor],
    );
    const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
      `SELECT transaction_id, global_position FROM processor_checkpoints WHERE processor = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [processor],
    );
    const row = rows[0];
    return row
      ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) }
      : LOG_START;
  },

  async store(db: Queryable, processor: string, position: LogPosition): Promise<void> {
    await db.query(
      `INSERT INTO processor_checkpoints (processor, transaction_id, global_position, updated_at)
       VALUES ($1, $2::xid8, $3, now())
       ON CONFLICT (processor) DO UPDATE
         SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()`,
      [processor, position.transactionId.toString(), position.globalPosition.toString()],
    );
  },

  /** Starts a processor over from the beginning of the log (a projection rebuild, a relay republish). */
  async reset(db: Queryable, processor: string): Promise<void> {
    await this.store(db, processor, LOG_START);
  },
};
