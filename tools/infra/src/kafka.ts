import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot, workDir } from './paths';
import { waitFor, withTimeout } from './wait';

const pomPath = path.join(repoRoot, 'tools', 'infra', 'kafka', 'pom.xml');
const log4jPath = path.join(repoRoot, 'tools', 'infra', 'kafka', 'log4j2.yaml');
const kafkaDir = path.join(workDir, 'kafka');
const libsDir = path.join(kafkaDir, 'libs');
const dataDir = path.join(kafkaDir, 'data');
const pidFile = path.join(kafkaDir, 'kafka.pid');
export const kafkaLogFile = path.join(kafkaDir, 'kafka.log');

export interface LocalKafkaSettings {
  port: number;
  controllerPort: number;
  heapMb: number;
}

export function localKafkaSettings(env = process.env): LocalKafkaSettings {
  return {
    port: Number(env.PARK_KAFKA_PORT ?? 9092),
    controllerPort: Number(env.PARK_KAFKA_CONTROLLER_PORT ?? 9093),
    heapMb: Number(env.PARK_KAFKA_HEAP_MB ?? 512),
  };
}

/** Answers when a broker at these addresses serves metadata. */
export async function kafkaAnswers(brokers: string[], timeoutMs = 3_000): Promise<void> {
  const kafka = new Kafka({
    clientId: 'park-infra-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1_000),
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      timeoutMs,
      `Kafka at ${brokers.join(',')}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function requireTool(tool: string, args: string[], hint: string): void {
  const probe = spawnSync(tool, args, { stdio: 'ignore' });
  if (probe.error || probe.status !== 0)
    throw new Error(`${tool} is needed to run Kafka locally. ${hint}`);
}

function pomDigest(): string {
  return createHash('sha256').update(fs.readFileSync(pomPath)).digest('hex');
}

/** Fetches the broker's jars from Maven Central into the work folder, once per pom version. */
export function assembleKafka(log: (line: string) => void): void {
  const marker = path.join(libsDir, '.assembled');
  const digest = pomDigest();
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === digest) return;
  requireTool(
    'mvn',
    ['-v'],
    'Install Maven (apt-get install maven) or set KAFKA_BROKERS to a running broker.',
  );
  log(`assembling Apache Kafka from Maven Central into ${path.relative(repoRoot, libsDir)} ...`);
  fs.rmSync(libsDir, { recursive: true, force: true });
  const result = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomPath,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libsDir}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(
      `Maven could not assemble Kafka (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  fs.writeFileSync(marker, digest);
}

function writeServerProperties(
  settings: LocalKafkaSettings,
  folder = kafkaDir,
  logDirs = dataDir,
): string {
  const file = path.join(folder, 'server.properties');
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${settings.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${settings.port},CONTROLLER://127.0.0.1:${settings.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${settings.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDirs}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    // A single node: internal topics cannot have more than one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests create and join many consumer groups; the default 3 s delay would slow every one.
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=-1',
    'delete.topic.enable=true',
  ];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * A random cluster id as Kafka writes them (16 bytes, base64url), never starting with '-': the
 * storage tool's argument parser takes such a value for an option ("argument --cluster-id/-t:
 * expected one argument"), which failed one format in 64 (Kafka's own Uuid avoids it alike).
 */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function formatStorage(
  propertiesFile: string,
  log: (line: string) => void,
  logDirs = dataDir,
): void {
  if (fs.existsSync(path.join(logDirs, 'meta.properties'))) return;
  log('formatting Kafka storage (KRaft) ...');
  const clusterId = kafkaClusterId();
  const result = spawnSync(
    'java',
    [
      '-cp',
      `${libsDir}/*`,
      `-Dlog4j2.configurationFile=${log4jPath}`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      propertiesFile,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`Kafka storage format failed:\n${result.stdout}\n${result.stderr}`);
}

function runningPid(): number | undefined {
  if (!fs.existsSync(pidFile)) return undefined;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts the broker JVM, detached, its output appended to logFile; returns its pid. */
function spawnBroker(
  settings: LocalKafkaSettings,
  propertiesFile: string,
  logFile: string,
): number {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      `-Xms${settings.heapMb}m`,
      `-Xmx${settings.heapMb}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4jPath}`,
      '-cp',
      `${libsDir}/*`,
      'kafka.Kafka',
      propertiesFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.closeSync(out);
  return child.pid!;
}

export interface KafkaBroker {
  bootstrap: string;
  /** The broker JVM's pid; a new one after each start. */
  pid(): number | undefined;
  /** Starts the broker on the same ports and data (after kill) and waits until it answers. */
  start(): Promise<void>;
  /** Sends a signal to the JVM (SIGKILL: a crash) and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A single-node broker of its own in `folder` (its data, properties and log), on the given
 * ports, from the jars `npm run infra:up` assembles: for tests that kill and restart a broker
 * without disturbing the shared one. Call start() to run it; its data survives kill().
 */
export function privateKafkaBroker(
  folder: string,
  settings: LocalKafkaSettings,
  log: (line: string) => void = () => undefined,
): KafkaBroker {
  const bootstrap = `127.0.0.1:${settings.port}`;
  const logDirs = path.join(folder, 'data');
  const logFile = path.join(folder, 'kafka.log');
  let pid: number | undefined;
  const alive = () => {
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    bootstrap,
    pid: () => (alive() ? pid : undefined),
    async start() {
      if (alive()) throw new Error(`the broker at ${bootstrap} is running already (pid ${pid})`);
      requireTool(
        'java',
        ['-version'],
        'Install Java 17 (apt-get install openjdk-17-jre-headless).',
      );
      fs.mkdirSync(logDirs, { recursive: true });
      assembleKafka(log);
      const propertiesFile = writeServerProperties(settings, folder, logDirs);
      formatStorage(propertiesFile, log, logDirs);
      pid = spawnBroker(settings, propertiesFile, logFile);
      await waitFor(
        `Kafka at ${bootstrap}`,
        () => {
          if (!alive()) {
            throw new Error(`the broker process exited; its log ends with:\n${tail(logFile, 15)}`);
          }
          return kafkaAnswers([bootstrap], 2_000);
        },
        90_000,
        `See ${logFile}.`,
      );
    },
    async kill(signal = 'SIGKILL') {
      if (!alive()) return;
      process.kill(pid!, signal);
      const deadline = Date.now() + 30_000;
      while (alive() && Date.now() < deadline) await sleep(50);
      if (alive()) throw new Error(`the broker (pid ${pid}) outlived ${signal} by 30 s`);
    },
  };
}

/** Starts the local single-node broker unless one answers already; returns its bootstrap address. */
export async function startLocalKafka(
  log: (line: string) => void,
  settings = localKafkaSettings(),
): Promise<string> {
  const bootstrap = `127.0.0.1:${settings.port}`;
  try {
    await kafkaAnswers([bootstrap], 2_000);
    return bootstrap;
  } catch {
    // Not running yet: start it below.
  }
  requireTool(
    'java',
    ['-version'],
    'Install Java 17 (apt-get install openjdk-17-jre-headless) or set KAFKA_BROKERS.',
  );
  fs.mkdirSync(dataDir, { recursive: true });
  assembleKafka(log);
  const propertiesFile = writeServerProperties(settings);
  formatStorage(propertiesFile, log);
  if (runningPid() === undefined) {
    log(`starting Kafka on ${bootstrap} (log: ${path.relative(repoRoot, kafkaLogFile)}) ...`);
    fs.writeFileSync(pidFile, String(spawnBroker(settings, propertiesFile, kafkaLogFile)));
  }
  await waitFor(
    `Kafka at ${bootstrap}`,
    () => {
      if (runningPid() === undefined) {
        throw new Error(`the broker process exited; its log ends with:\n${tail(kafkaLogFile, 15)}`);
      }
      return kafkaAnswers([bootstrap], 2_000);
    },
    90_000,
    `See ${kafkaLogFile}.`,
  );
  return bootstrap;
}

/** Stops the local broker (SIGTERM, then SIGKILL after 30 s). */
export async function stopLocalKafka(log: (line: string) => void): Promise<void> {
  const pid = runningPid();
  if (pid === undefined) {
    log('Kafka: not running');
    return;
  }
  log(`stopping Kafka (pid ${pid}) ...`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (runningPid() !== undefined && Date.now() < deadline) await sleep(200);
  if (runningPid() !== undefined) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
