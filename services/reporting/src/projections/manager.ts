import { inTransaction } from '@park/eventstore';
import type { Logger } from '@park/service-kit';
import { NotFoundError } from '@park/service-kit/errors';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { schemaOf, type Projection } from './projection';
import { createBaseTables, ProjectionRunner } from './runner';

interface VersionRow {
  version: number;
  status: string;
  shape: number;
  target: Record<string, string>;
}

export interface ProjectionStatus {
  name: string;
  activeVersion: number;
  buildingVersion: number;
  buildingApplied: number;
  buildingTarget: number;
  switchedAt?: string;
}

/**
 * Runs every projection's active version, and rebuilds (blue-green): a new version's schema is
 * created and fed from offset 0 while the active one keeps serving; once its checkpoints reach
 * the end offsets taken when the rebuild started, it becomes active in one transaction, the old
 * version's consumer stops and its schema is dropped.
 */
export class ProjectionManager {
  private readonly runners = new Map<string, ProjectionRunner>();
  /** Active versions of an older shape than the code's: answering, not fed, until replaced. */
  private readonly frozen = new Map<string, string>();
  private readonly building = new Map<
    string,
    { runner: ProjectionRunner; target: Map<string, bigint> }
  >();
  private watcher?: NodeJS.Timeout;
  /** The switch in progress: one at a time (a switch can outlast the watcher's 250 ms period). */
  private switching?: Promise<void>;
  /** Replaced versions whose consumers are stopping and whose schemas are being dropped. */
  private readonly retiring = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly projections: readonly Projection[],
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  private projection(name: string): Projection {
    const found = this.projections.find((projection) => projection.name === name);
    if (!found) throw new NotFoundError(`no projection named ${name}`);
    return found;
  }

  private runner(projection: Projection, version: number): ProjectionRunner {
    return new ProjectionRunner({
      kafka: this.kafka,
      pool: this.pool,
      projection,
      version,
      prefix: this.prefix,
      onError: (error, message) =>
        this.logger?.warn(
          { err: error, projection: projection.name, offset: message?.offset },
          'projection record failed',
        ),
    });
  }

  private async createVersion(
    projection: Projection,
    version: number,
    status: 'active' | 'building',
    target: Map<string, bigint>,
  ) {
    const schema = schemaOf(projection.name, version);
    await inTransaction(this.pool, async (tx) => {
      await tx.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await tx.query(`CREATE SCHEMA ${schema}`);
      await createBaseTables(tx, schema);
      await projection.createTables(tx, schema);
      await tx.query(
        `INSERT INTO projection_versions (projection, version, status, target, shape) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (projection, version) DO UPDATE SET status = $3, target = $4, shape = $5`,
        [
          projection.name,
          version,
          status,
          JSON.stringify(Object.fromEntries([...target].map(([k, v]) => [k, v.toString()]))),
          projection.shape,
        ],
      );
    });
  }

  /**
   * Starts every projection's active version (creating version 1 on first start) and resumes
   * rebuilds. An active version built with another shape than the code's is not fed (the code
   * would write tables of another shape): it keeps answering as it is. One of an older shape is
   * rebuilt at once into a version of the current shape, from offset 0, and dropped once that
   * one switched in; one of a newer shape (a newer release built it, and feeds it) is left to
   * that release, or to an operator's rebuild.
   */
  async start(): Promise<void> {
    for (const projection of this.projections) {
      await this.locked(projection.name, async () => {
        const rows = await this.versions(projection.name);
        let active = rows.find((row) => row.status === 'active');
        if (!active) {
          const version = await this.nextVersion(projection.name);
          await this.createVersion(projection, version, 'active', new Map());
          active = { version, status: 'active', shape: projection.shape, target: {} };
        }
        let building = rows.find((row) => row.status === 'building');
        if (building && building.shape < projection.shape) {
          // A rebuild an older release started: its tables are of the old shape too.
          await this.discard(projection.name, building.version);
          building = undefined;
        }
        if (active.shape === projection.shape) {
          const runner = this.runner(projection, active.version);
          await runner.start();
          this.runners.set(projection.name, runner);
        } else {
          // Either shape's tables are not this code's to write: answer from them as they are.
          this.frozen.set(projection.name, schemaOf(projection.name, active.version));
          this.logger?.warn(
            { projection: projection.name, shape: active.shape, ours: projection.shape },
            active.shape < projection.shape
              ? 'projection of an older shape: answering from it, frozen, while a new version is built'
              : "projection of a newer shape (a newer release built it): answering from it, not feeding it; `projections rebuild` builds this release's shape",
          );
        }
        if (building) {
          const buildRunner = this.runner(projection, building.version);
          await buildRunner.start();
          this.building.set(projection.name, {
            runner: buildRunner,
            target: new Map(Object.entries(building.target).map(([k, v]) => [k, BigInt(v)])),
          });
        } else if (active.shape < projection.shape) {
          await this.beginRebuild(projection);
        }
      });
    }
    this.watcher = setInterval(() => {
      // Never two at once: a second pass over a stale list of building versions would take the
      // version the first one just switched to for the old one, stop it and drop its schema.
      this.switching ??= this.switchFinished()
        .catch((error: unknown) => this.logger?.warn({ err: error }, 'projection switch failed'))
        .finally(() => (this.switching = undefined));
    }, 250);
    this.watcher.unref();
  }

  private async versions(name: string): Promise<VersionRow[]> {
    const { rows } = await this.pool.query<VersionRow>(
      `SELECT version, status, shape, target FROM projection_versions WHERE projection = $1 AND status <> 'retired'`,
      [name],
    );
    return rows;
  }

  private async nextVersion(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ version: number }>(
      'SELECT coalesce(max(version), 0) AS version FROM projection_versions WHERE projection = $1',
      [name],
    );
    return rows[0]!.version + 1;
  }

  /** A version nobody will finish: retired, its schema dropped. */
  private async discard(name: string, version: number): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await tx.query(
        `UPDATE projection_versions SET status = 'retired' WHERE projection = $1 AND version = $2`,
        [name, version],
      );
      await tx.query(`DROP SCHEMA IF EXISTS ${schemaOf(name, version)} CASCADE`);
    });
  }

  /**
   * Work on one projection's versions that must not interleave with another replica's (two
   * replicas starting together would otherwise both create the next version): a session
   * advisory lock per projection, held for the work.
   */
  private async locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`reporting-projection:${name}`]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [
          `reporting-projection:${name}`,
        ]);
      }
    } finally {
      client.release();
    }
  }

  /** The schemas queries read, by projection: each one's active version's, in one query. */
  async activeSchemas(): Promise<Record<string, string>> {
    const { rows } = await this.pool.query<{ projection: string; version: number }>(
      `SELECT projection, version FROM projection_versions WHERE status = 'active'`,
    );
    const schemas = Object.fromEntries(
      rows.map((row) => [row.projection, schemaOf(row.projection, row.version)]),
    );
    for (const projection of this.projections) {
      if (!schemas[projection.name]) {
        throw new NotFoundError(`projection ${projection.name} has no active version`);
      }
    }
    return schemas;
  }

  /** Starts rebuilding a projection (or all): a new version fed from offset 0. */
  async rebuild(name?: string): Promise<ProjectionStatus[]> {
    const chosen = name ? [this.projection(name)] : [...this.projections];
    for (const projection of chosen) {
      if (this.building.has(projection.name)) continue;
      await this.locked(projection.name, async () => {
        // Another replica may have started one meanwhile: feed that one too rather than a second.
        const building = (await this.versions(projection.name)).find(
          (row) => row.status === 'building' && row.shape === projection.shape,
        );
        if (!building) {
          await this.beginRebuild(projection);
          return;
        }
        const runner = this.runner(projection, building.version);
        await runner.start();
        this.building.set(projection.name, {
          runner,
          target: new Map(Object.entries(building.target).map(([k, v]) => [k, BigInt(v)])),
        });
      });
    }
    return this.status();
  }

  /** A new version in status building, fed from offset 0 until it reaches the topics' ends now. */
  private async beginRebuild(projection: Projection): Promise<void> {
    const version = await this.nextVersion(projection.name);
    const runner = this.runner(projection, version);
    const target = new Map<string, bigint>();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of runner.topics()) {
        for (const offsets of await admin.fetchTopicOffsets(topic)) {
          if (offsets.high !== offsets.low)
            target.set(`${topic}:${offsets.partition}`, BigInt(offsets.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    await this.createVersion(projection, version, 'building', target);
    await runner.start();
    this.building.set(projection.name, { runner, target });
    this.logger?.info({ projection: projection.name, version }, 'projection rebuild started');
  }

  private async switchFinished(): Promise<void> {
    for (const [name, { runner, target }] of [...this.building]) {
      if (this.stopped) return;
      const checkpoints = await runner.checkpoints();
      const done = [...target].every(([key, end]) => (checkpoints.get(key) ?? 0n) >= end);
      if (!done) continue;
      const old = this.runners.get(name);
      await inTransaction(this.pool, async (tx) => {
        await tx.query(
          `UPDATE projection_versions SET status = 'retired' WHERE projection = $1 AND status = 'active'`,
          [name],
        );
        await tx.query(
          `UPDATE projection_versions SET status = 'active', switched_at = now() WHERE projection = $1 AND version = $2`,
          [name, runner.version],
        );
      });
      this.building.delete(name);
      this.runners.set(name, runner);
      // The old version's consumer takes seconds to stop: the next switches need not wait.
      const frozen = this.frozen.get(name);
      this.frozen.delete(name);
      if (old) this.retire(old.schema, () => old.stop());
      else if (frozen) this.retire(frozen, async () => undefined);
      this.logger?.info(
        { projection: name, schema: runner.schema },
        'projection switched to its rebuilt version',
      );
    }
  }

  /** Stops a replaced version's consumer (if it has one), then drops its schema. */
  private retire(schema: string, stop: () => Promise<void>): void {
    const retiring: Promise<void> = stop()
      .then(async () => {
        await this.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      })
      .catch((error: unknown) =>
        this.logger?.warn({ err: error, schema }, 'retiring a projection version failed'),
      )
      .finally(() => this.retiring.delete(retiring));
    this.retiring.add(retiring);
  }

  async status(): Promise<ProjectionStatus[]> {
    const { rows } = await this.pool.query<{
      projection: string;
      version: number;
      status: string;
      switched_at: Date | null;
      target: Record<string, string>;
    }>(
      `SELECT projection, version, status, switched_at, target FROM projection_versions WHERE status <> 'retired'`,
    );
    return Promise.all(
      this.projections.map(async (projection) => {
        const active = rows.find(
          (row) => row.projection === projection.name && row.status === 'active',
        );
        const building = rows.find(
          (row) => row.projection === projection.name && row.status === 'building',
        );
        const buildRunner = this.building.get(projection.name)?.runner;
        const checkpoints = buildRunner
          ? await buildRunner.checkpoints()
          : new Map<string, bigint>();
        const sum = (values: Iterable<bigint>) =>
          [...values].reduce((total, value) => total + value, 0n);
        return {
          name: projection.name,
          activeVersion: active?.version ?? 0,
          buildingVersion: building?.version ?? 0,
          buildingApplied: Number(sum(checkpoints.values())),
          buildingTarget: building ? Number(sum(Object.values(building.target).map(BigInt))) : 0,
          ...(active?.switched_at ? { switchedAt: active.switched_at.toISOString() } : {}),
        };
      }),
    );
  }

  /** Waits until every projection's active version has applied what its topics held. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const admin = this.kafka.admin();
      await admin.connect();
      let behind = false;
      try {
        for (const runner of this.runners.values()) {
          const checkpoints = await runner.checkpoints();
          for (const topic of runner.topics()) {
            for (const offsets of await admin.fetchTopicOffsets(topic)) {
              if (offsets.high === offsets.low) continue;
              if ((checkpoints.get(`${topic}:${offsets.partition}`) ?? 0n) < BigInt(offsets.high))
                behind = true;
            }
          }
        }
      } finally {
        await admin.disconnect();
      }
      if (!behind && this.building.size === 0) return;
      if (Date.now() > deadline) throw new Error('projections did not catch up in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watcher) clearInterval(this.watcher);
    await this.switching;
    await Promise.all(this.retiring);
    await Promise.all(
      [...this.runners.values(), ...[...this.building.values()].map((b) => b.runner)].map(
        (runner) => runner.stop(),
      ),
    );
  }
}
