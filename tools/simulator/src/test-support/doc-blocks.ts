// The fenced blocks of a Markdown document, and a runner that executes its ```sh blocks in order
// in one bash session (as a reader pastes them into one terminal), telling each block's output
// and whether it ran to its end.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DocBlock {
  /** The document, as given to fencedBlocks. */
  file: string;
  /** Line of the opening fence, from 1. */
  line: number;
  /** The info string's first word ("sh", "yaml", ...), empty without one. */
  lang: string;
  /** The info string's other words ("no-run"). */
  flags: string[];
  code: string;
  /** `# prints: <text>` lines: what the block's output must contain. */
  prints: string[];
  /** The prose between the previous block (or the heading) and this one. */
  before: string;
}

const OPEN = /^( {0,3})(`{3,}|~{3,})\s*(.*)$/;
const PRINTS = /^\s*# prints: (.+?)\s*$/;

/** Every fenced code block of a CommonMark document (top level and in lists alike). */
export function fencedBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) {
      prose.push(lines[i]!);
      continue;
    }
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j]!); j++) {
      body.push(lines[j]!.replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    const [lang = '', ...flags] = info.trim().split(/\s+/).filter(Boolean);
    const code = body.join('\n');
    blocks.push({
      file,
      line: i + 1,
      lang,
      flags,
      code,
      prints: body.map((l) => PRINTS.exec(l)?.[1]).filter((p): p is string => p !== undefined),
      before: prose.join('\n'),
    });
    prose = [];
    i = j;
  }
  return blocks;
}

export interface BlockRun {
  block: DocBlock;
  started: boolean;
  /** Ran to its last line (bash went on to the next block). */
  finished: boolean;
  /** Its stdout and stderr, interleaved as bash wrote them. */
  output: string;
  seconds?: number;
}

export interface SessionRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  blocks: BlockRun[];
  /** Everything bash printed. */
  output: string;
}

const MARK = '@@docs-block';

/**
 * Runs the blocks one after the other in one `bash` process with `set -euo pipefail`, stdin from
 * /dev/null, in `cwd` with exactly `env`: the first failing command ends the session. The whole
 * process group is killed after `timeoutMs`, and when bash ends (nothing is left behind).
 */
export async function runShellSession(
  blocks: DocBlock[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; scriptDir: string },
): Promise<SessionRun> {
  const script = [
    'set -euo pipefail',
    'exec 2>&1',
    ...blocks.flatMap((block, index) => [
      `printf '\\n${MARK} ${index} begin %s@@\\n' "$(date +%s%3N)"`,
      block.code,
      `printf '\\n${MARK} ${index} end %s@@\\n' "$(date +%s%3N)"`,
    ]),
    '',
  ].join('\n');
  const file = path.join(
    options.scriptDir,
    `session-${path.basename(blocks[0]?.file ?? 'doc')}.sh`,
  );
  fs.writeFileSync(file, script);
  const child = spawn('bash', [file], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs);
  const { code, signal } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve) => child.once('close', (c, s) => resolve({ code: c, signal: s })));
  clearTimeout(timer);
  killGroup();

  const runs: BlockRun[] = blocks.map((block) => ({
    block,
    started: false,
    finished: false,
    output: '',
  }));
  const marker = new RegExp(`^${MARK} (\\d+) (begin|end) (\\d+)@@$`);
  let current: BlockRun | undefined;
  let began = 0;
  for (const line of output.split('\n')) {
    const match = marker.exec(line);
    if (!match) {
      if (current) current.output += `${line}\n`;
      continue;
    }
    const run = runs[Number(match[1])]!;
    if (match[2] === 'begin') {
      run.started = true;
      current = run;
      began = Number(match[3]);
    } else {
      run.finished = true;
      run.seconds = (Number(match[3]) - began) / 1000;
      current = undefined;
    }
  }
  return { exitCode: code, signal, timedOut, blocks: runs, output };
}

/** A readable account of a failed or unfinished block, for an assertion's message. */
export function describeRun(run: BlockRun): string {
  const tail = run.output.split('\n').slice(-40).join('\n');
  return (
    `${run.block.file}:${run.block.line} (${run.started ? 'started' : 'never started'}, ` +
    `${run.finished ? 'finished' : 'did not finish'})\n` +
    `--- block ---\n${run.block.code}\n--- output (last lines) ---\n${tail}`
  );
}
