import type { ConsumerRunner, OutboxRelay } from '@park/messaging';
import type { Admin, Kafka } from 'kafkajs';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Set as the `service` label of every series. */
  serviceName: string;
  /** Process and Node.js runtime metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
  /** How long a scrape waits for the broker's offsets before it reports the in-process lag. */
  lagTimeoutMs?: number;
}

export interface ObserveConsumerOptions {
  /**
   * Computes the lag from the broker at each scrape: end offset minus the group's committed
   * offset per partition, right even while this runner is stopped or rebalanced away. Without
   * it the lag is the runner's own view: the high watermark of its last batch per partition
   * minus its last commit, which goes stale when no batch arrives.
   */
  kafka?: Kafka;
}

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

export interface ServiceMetrics {
  /** The service's own registry: prom-client's global default registry is never touched. */
  readonly registry: Registry;
  /** The text for a /metrics response, with its Content-Type header value. */
  render(): Promise<RenderedMetrics>;
  /** Reports the runner's counters and lag; returns a function that stops reporting them. */
  observeConsumer(runner: ConsumerRunner, options?: ObserveConsumerOptions): () => void;
  observeRelay(relay: OutboxRelay): () => void;
  /** Disconnects the admin clients opened for the lag. */
  close(): Promise<void>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

interface ObservedConsumer {
  runner: ConsumerRunner;
  admin?: LazyAdmin;
  /** One broker round trip at a time: a slow broker must not pile up scrapes. */
  inFlight?: Promise<PartitionLag[]>;
}

/**
 * Prometheus metrics of a service in a registry it owns. The consumer and relay series are read
 * from the runners' own counters when scraped, so nothing on the message path calls into this.
 */
export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.serviceName });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const lagTimeoutMs = options.lagTimeoutMs ?? 2_000;
  const consumers = new Set<ObservedConsumer>();
  const relays = new Set<OutboxRelay>();

  const consumerCounter = (
    name: string,
    help: string,
    pick: (counters: ConsumerRunner['counters']) => number,
  ) =>
    new Counter({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        // Cumulative counts live in the runner; mirrored at each scrape, never double counted.
        this.reset();
        for (const { runner } of consumers)
          this.inc({ group: runner.groupId }, pick(runner.counters));
      },
    });
  consumerCounter(
    'park_consumer_messages_applied_total',
    'Messages whose handler committed its effect together with the inbox record.',
    (c) => c.applied,
  );
  consumerCounter(
    'park_consumer_messages_duplicate_total',
    'Messages skipped because the inbox had already recorded their id.',
    (c) => c.duplicates,
  );
  consumerCounter(
    'park_consumer_retries_total',
    'Failed handler attempts that were retried.',
    (c) => c.retries,
  );
  consumerCounter(
    'park_consumer_dead_letters_total',
    'Messages written to their dead-letter topic after failing.',
    (c) => c.deadLettered,
  );
  const lagFailures = new Counter({
    name: 'park_consumer_lag_refresh_failures_total',
    help: 'Scrapes that could not read offsets from the broker and reported the in-process lag.',
    labelNames: ['group'],
    registers: [registry],
    // prom-client collects all metrics at once: wait for this scrape's refresh to count in it.
    collect: () => lagsOfThisScrape().then(() => undefined),
  });
  let scrapeLags: Promise<{ group: string; lags: PartitionLag[] }[]> | undefined;
  const lagsOfThisScrape = () =>
    (scrapeLags ??= Promise.all(
      [...consumers].map(async (observed) => ({
        group: observed.runner.groupId,
        lags: await currentLag(observed, lagTimeoutMs, () =>
          lagFailures.inc({ group: observed.runner.groupId }),
        ),
      })),
    ).finally(() => {
      scrapeLags = undefined;
    }));
  new Gauge({
    name: 'park_consumer_lag',
    help: 'Messages on the partition after the consumer group committed offset.',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      const results = await lagsOfThisScrape();
      // Partitions the group no longer reads disappear instead of keeping a stale value.
      this.reset();
      for (const { group, lags } of results) {
        for (const { topic, partition, lag } of lags) {
          this.set({ group, topic, partition: String(partition) }, lag);
        }
      }
    },
  });
  new Counter({
    name: 'park_relay_events_published_total',
    help: 'Integration events the outbox relay published and Kafka acknowledged.',
    labelNames: ['relay'],
    registers: [registry],
    collect() {
      this.reset();
      for (const relay of relays) this.inc({ relay: relay.name }, relay.published);
    },
  });

  return {
    registry,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    observeConsumer(runner, observeOptions = {}) {
      const observed: ObservedConsumer = {
        runner,
        admin: observeOptions.kafka ? new LazyAdmin(observeOptions.kafka) : undefined,
      };
      consumers.add(observed);
      return () => {
        consumers.delete(observed);
        void observed.admin?.disconnect().catch(() => undefined);
      };
    },
    observeRelay(relay) {
      relays.add(relay);
      return () => relays.delete(relay);
    },
    async close() {
      await Promise.all([...consumers].map((observed) => observed.admin?.disconnect()));
    },
  };
}

async function currentLag(
  observed: ObservedConsumer,
  timeoutMs: number,
  onFailure: () => void,
): Promise<PartitionLag[]> {
  const { runner, admin } = observed;
  if (!admin) return inProcessLag(runner);
  observed.inFlight ??= admin
    .connected()
    .then((client) => brokerLag(client, runner.groupId, runner.topics))
    .finally(() => {
      observed.inFlight = undefined;
    });
  try {
    return await withTimeout(observed.inFlight, timeoutMs);
  } catch {
    onFailure();
    return inProcessLag(runner);
  }
}

/** Per partition: high watermark of the last batch minus this runner's last commit. */
export function inProcessLag(runner: ConsumerRunner): PartitionLag[] {
  const lags: PartitionLag[] = [];
  for (const { topic, partition, committed, highWatermark } of runner.positions()) {
    if (committed === undefined || highWatermark === undefined) continue;
    lags.push({ topic, partition, lag: nonNegative(BigInt(highWatermark) - BigInt(committed)) });
  }
  return lags;
}

/**
 * The classic lag: each partition's end offset minus the group's committed offset. A partition
 * the group never committed counts from its first retained offset, where the runner (which
 * reads from the beginning) would start.
 */
export async function brokerLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([
    Promise.all(
      topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })),
    ),
    admin.fetchOffsets({ groupId, topics: [...topics] }),
  ]);
  const lags: PartitionLag[] = [];
  for (const { topic, offsets } of ends) {
    const group = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
    for (const { partition, high, low } of offsets) {
      const offset = group.find((entry) => entry.partition === partition)?.offset ?? '-1';
      const from = BigInt(offset) >= 0n ? BigInt(offset) : BigInt(low);
      lags.push({ topic, partition, lag: nonNegative(BigInt(high) - from) });
    }
  }
  return lags.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** An admin client connected on first use and again after a failed connection. */
class LazyAdmin {
  private readonly admin: Admin;
  private connecting: Promise<Admin> | undefined;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
  }

  connected(): Promise<Admin> {
    this.connecting ??= this.admin.connect().then(
      () => this.admin,
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    return this.connecting;
  }

  async disconnect(): Promise<void> {
    if (!this.connecting) return;
    this.connecting = undefined;
    await this.admin.disconnect();
  }
}

function nonNegative(value: bigint): number {
  return value > 0n ? Number(value) : 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
