import type { Queryable } from '@park/eventstore';
import type { ConsumedMessage } from '@park/messaging';

/**
 * A read model fed by Kafka topics. Its tables live in a schema of their own per version
 * (`rp_<name>_v<version>`), so a rebuild fills a new version from offset 0 while the active one
 * keeps serving, then the service switches to it.
 */
export interface Projection {
  name: string;
  /**
   * The revision of the projection's tables and of what `apply` writes into them. Raise it with
   * any change to either (a column, a table, a meaning): a service whose active version was built
   * with a lower shape rebuilds the projection into a new version when it starts (the old
   * version keeps answering, frozen, until the new one has caught up). Keep changes additive, so
   * that a replica still running the previous code can answer from a version of the next shape
   * (it does not feed it).
   */
  shape: number;
  /** Topic names before the deployment's prefix. */
  topics: readonly string[];
  /** Creates the projection's tables in `schema` (which exists and is empty). */
  createTables(db: Queryable, schema: string): Promise<void>;
  /** Applies one record; the runner has already skipped redeliveries. */
  apply(db: Queryable, schema: string, message: ConsumedMessage): Promise<void>;
  /**
   * Applies a group's records (of one partition, in offset order, redeliveries already left out)
   * in a few statements: the same tables as `apply` of each record in turn. It throws a
   * PermanentMessageError before or after writing when a record cannot be read: the runner then
   * rolls the group back to a savepoint and applies its records one by one with `apply` (the bad
   * one is rejected, the others applied). Optional: without it the runner applies record by
   * record.
   */
  applyMany?(db: Queryable, schema: string, messages: readonly ConsumedMessage[]): Promise<void>;
}

export const schemaOf = (name: string, version: number): string => `rp_${name}_v${version}`;
