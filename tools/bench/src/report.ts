import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunRecord } from './harness';
import { ratio } from './stats';

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  git: { commit: string; dirty: boolean } | null;
  postgres: string | null;
}

export interface Report {
  timestamp: string;
  command: string[];
  environment: Environment;
  benchmarks: (RunRecord & {
    results: (RunRecord['results'][number] & { ratio: number | null })[];
  })[];
}

/** The commit checked out in dir, and whether the working tree differs from it; null without git. */
export function gitInfo(dir: string): Environment['git'] {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: dir, encoding: 'utf8', timeout: 5_000 });
  const head = git('rev-parse', 'HEAD');
  if (head.error || head.status !== 0) return null;
  const status = git('status', '--porcelain');
  return {
    commit: head.stdout.trim(),
    dirty: status.status === 0 ? status.stdout.trim().length > 0 : false,
  };
}

export function environment(repoRoot: string, postgres: string | null): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    git: gitInfo(repoRoot),
    postgres,
  };
}

export function buildReport(
  records: readonly RunRecord[],
  env: Environment,
  command: readonly string[],
  now = new Date(),
): Report {
  return {
    timestamp: now.toISOString(),
    command: [...command],
    environment: env,
    benchmarks: records.map((record) => ({
      ...record,
      results: record.results.map((result) => ({
        ...result,
        ratio: ratio(result.subject, result.baseline) ?? null,
      })),
    })),
  };
}

/** File name of a report: its timestamp with the colons a file name cannot always hold replaced. */
export function reportFileName(timestamp: string): string {
  return `${timestamp.replace(/:/g, '-')}.json`;
}

/** Writes <dir>/<timestamp>.json and <dir>/latest.json; returns the first one's path. */
export function writeReport(dir: string, report: Report): string {
  fs.mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(dir, reportFileName(report.timestamp));
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(dir, 'latest.json'), text);
  return file;
}
