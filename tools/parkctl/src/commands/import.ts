// `parkctl import <file>`: streams a CSV (or JSON-lines) file of readings to metering's
// `POST /v1/readings:bulk`, with a progress bar of the bytes sent, then prints the service's
// per-row report: how many rows were accepted, duplicates, corrected, held and rejected, and
// the first rejected rows with their field and reason.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import type { Context } from '../context';
import { CliError, describeProblem, EXIT, UsageError, type ProblemBody } from '../errors';
import type { Column, View } from '../output';
import { positiveInt } from '../values';

export const BULK_PATH = '/v1/readings:bulk';

/** The service's answer (services/metering/src/api/http-bulk.ts, BulkUploadSummary). */
export interface BulkUploadSummary {
  uploadId: string;
  rows: number;
  accepted: number;
  duplicate: number;
  corrected: number;
  held: number;
  rejected: number;
  rejections: { row: number; meterId: string; field: string; reason: string }[];
  rejectionsOmitted?: number;
}

export interface ImportOptions {
  /** csv or ndjson; from the file's extension when omitted (.ndjson, .jsonl: ndjson). */
  format?: string;
  /** Rejected rows listed in the table (all of them in JSON); 10 by default. */
  showRejections?: string;
  /** Exit 3 when a row was rejected or held. */
  strict?: boolean;
}

const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;

export async function importReadings(
  ctx: Context,
  file: string,
  options: ImportOptions,
): Promise<View> {
  const format = options.format ?? (/\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : 'csv');
  if (format !== 'csv' && format !== 'ndjson') {
    throw new UsageError(`--format must be csv or ndjson (not "${format}")`);
  }
  const shown = positiveInt(options.showRejections, '--show-rejections', 10);
  const fullPath = path.resolve(ctx.io.cwd, file);
  let size: number;
  try {
    const stat = await fs.promises.stat(fullPath);
    if (!stat.isFile()) throw new CliError(`${file} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }

  const url = new URL(`${ctx.settings.httpUrl}${BULK_PATH}`);
  const token = await ctx.token();
  const bar = ctx.progress({ label: `${path.basename(file)} ->`, total: size });
  let answer: HttpAnswer;
  try {
    answer = await postFile(url, fullPath, size, {
      headers: { authorization: `Bearer ${token}`, 'content-type': CONTENT_TYPES[format] },
      idleTimeoutMs: ctx.settings.timeoutMs,
      onBytes: (bytes) => bar.advance(bytes),
    });
  } catch (error) {
    bar.abort();
    throw error;
  }
  bar.finish();

  const body = parseJson(answer.text);
  if (answer.status === 200 && isSummary(body)) {
    const view = summaryView(body, shown, file);
    if (options.strict && body.rejected + body.held > 0) view.exitCode = EXIT.rowsRejected;
    return view;
  }
  if (answer.status === 413 && isSummary((body as { upload?: unknown } | undefined)?.upload)) {
    // What was read before the limit stays ingested: show it, then fail.
    ctx.print(summaryView((body as { upload: BulkUploadSummary }).upload, shown, file));
  }
  throw new CliError(
    `${url.origin}${BULK_PATH}: ${describeProblem(answer.status, body as ProblemBody | undefined, answer.text)}`,
  );
}

const SUMMARY_COLUMNS: Column[] = [
  { key: 'file' },
  { key: 'upload_id', header: 'upload' },
  { key: 'rows', align: 'right' },
  { key: 'accepted', align: 'right' },
  { key: 'duplicate', header: 'duplicates', align: 'right' },
  { key: 'corrected', align: 'right' },
  { key: 'held', align: 'right' },
  { key: 'rejected', align: 'right' },
];

const REJECTION_COLUMNS: Column[] = [
  { key: 'row', align: 'right' },
  { key: 'meter_id', header: 'meter' },
  { key: 'field' },
  { key: 'reason' },
];

export function summaryView(summary: BulkUploadSummary, shown: number, file: string): View {
  const listed = summary.rejections.slice(0, shown);
  const notListed = summary.rejected - listed.length;
  const notes: string[] = [];
  if (notListed > 0) {
    notes.push(
      `${notListed} more rejected row${notListed === 1 ? '' : 's'} not shown ` +
        '(--show-rejections <n>, or --output json for every one the service listed)',
    );
  }
  if (summary.held > 0) {
    notes.push(
      `${summary.held} value${summary.held === 1 ? ' is' : 's are'} above the meter's physical maximum and held for an operator's review`,
    );
  }
  return {
    json: summary,
    sections: [
      {
        layout: 'record',
        columns: SUMMARY_COLUMNS,
        rows: [
          {
            file,
            upload_id: summary.uploadId,
            rows: summary.rows,
            accepted: summary.accepted,
            duplicate: summary.duplicate,
            corrected: summary.corrected,
            held: summary.held,
            rejected: summary.rejected,
          },
        ],
      },
      ...(listed.length > 0
        ? [
            {
              title:
                listed.length < summary.rejected
                  ? `rejected rows (first ${listed.length} of ${summary.rejected}):`
                  : 'rejected rows:',
              columns: REJECTION_COLUMNS,
              rows: listed.map((r) => ({
                row: r.row,
                meter_id: r.meterId,
                field: r.field,
                reason: r.reason,
              })),
            },
          ]
        : []),
    ],
    notes,
  };
}

function isSummary(value: unknown): value is BulkUploadSummary {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BulkUploadSummary).rows === 'number' &&
    Array.isArray((value as BulkUploadSummary).rejections)
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export interface PostFileOptions {
  headers: Record<string, string>;
  /** The upload fails when nothing moves for this long. */
  idleTimeoutMs: number;
  onBytes?: (bytes: number) => void;
}

/**
 * POSTs a file as the request body, streamed (never read whole) with its Content-Length, so the
 * service can refuse an upload beyond its limit at once. onBytes counts what was handed to the
 * socket; back-pressure keeps that close to what the service has read.
 */
export function postFile(
  url: URL,
  file: string,
  size: number,
  options: PostFileOptions,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(size) },
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.setTimeout(options.idleTimeoutMs, () =>
      request.destroy(
        new CliError(
          `${url.origin}: no progress for ${options.idleTimeoutMs / 1000} s (raise --timeout)`,
        ),
      ),
    );
    request.on('error', (error) => {
      // A service that answers early (401, 413) may close before the body is through.
      if (!answered) reject(error);
    });
    const source = fs.createReadStream(file);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        options.onBytes?.(chunk.length);
        callback(null, chunk);
      },
    });
    source.on('error', (error) =>
      request.destroy(new CliError(`cannot read ${file}: ${error.message}`)),
    );
    source.pipe(counter).pipe(request);
  });
}
