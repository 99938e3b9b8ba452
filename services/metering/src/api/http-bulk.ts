import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  PROBLEM_CONTENT_TYPE,
  principalOf,
  requireRole,
  toProblem,
  TooLargeError,
  ValidationError,
  type ServeOptions,
} from '@park/service-kit';
import { BulkFormatError, parseBulkReadings, type BulkFormat } from '../ingestion/bulk-parser';
import type { BatchReading, IngestService } from '../readings/ingest-service';

/** The router ServiceRuntime hands to httpRoutes (behind bearer auth). */
type Router = Parameters<NonNullable<ServeOptions['httpRoutes']>>[0];

export const BULK_READINGS_PATH = '/v1/readings:bulk';
export const DEFAULT_BULK_LIMIT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_BULK_CHUNK_ROWS = 2_000;
/** Rejections listed in one answer; the rest are counted in rejectionsOmitted. */
export const MAX_LISTED_REJECTIONS = 10_000;

const FORMATS: Record<string, BulkFormat> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
};

export interface BulkRejection {
  /** The parser's row number: data rows count from 1 (a CSV header is row 0). */
  row: number;
  meterId: string;
  field: string;
  reason: string;
}

export interface BulkUploadSummary {
  uploadId: string;
  rows: number;
  accepted: number;
  duplicate: number;
  corrected: number;
  held: number;
  rejected: number;
  rejections: BulkRejection[];
  /** Present when more rows were rejected than the answer lists. */
  rejectionsOmitted?: number;
}

export interface BulkReadingsOptions {
  ingest: IngestService;
  /** Largest body accepted, counted as it streams; default 50 MB. */
  limitBytes?: number;
  /** Rows per IngestService.ingest call; default 2,000. */
  chunkRows?: number;
  clock?: () => Date;
}

/**
 * POST /v1/readings:bulk: a CSV (text/csv) or JSON-lines (application/x-ndjson) upload of
 * readings for operators and integrators. The body is streamed through the parser and ingested
 * in chunks, never held whole; the answer counts every row's outcome and lists the rejected
 * ones by row. Beyond the size limit the upload stops with 413: the rows ingested before it
 * stay, and the problem says how far it got.
 */
export function mountBulkReadings(router: Router, options: BulkReadingsOptions): void {
  const limitBytes = options.limitBytes ?? DEFAULT_BULK_LIMIT_BYTES;
  const chunkRows = options.chunkRows ?? DEFAULT_BULK_CHUNK_ROWS;
  const clock = options.clock ?? (() => new Date());

  router.post(BULK_READINGS_PATH, async (request, response) => {
    requireRole(principalOf(request), 'operator', 'integrator');
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format = FORMATS[mediaType];
    if (!format) {
      const { problem } = toProblem(undefined);
      response
        .status(415)
        .type(PROBLEM_CONTENT_TYPE)
        .send(
          JSON.stringify({
            ...problem,
            type: 'https://park.example/problems/unsupported-media-type',
            title: 'Unsupported Media Type',
            status: 415,
            detail: `Content-Type must be text/csv or application/x-ndjson, not ${mediaType || 'missing'}`,
          }),
        );
      return;
    }

    const uploadId = randomUUID();
    const summary: BulkUploadSummary = {
      uploadId,
      rows: 0,
      accepted: 0,
      duplicate: 0,
      corrected: 0,
      held: 0,
      rejected: 0,
      rejections: [],
    };
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      tooLarge(response, limitBytes, summary);
      return;
    }

    const limiter = new LineLimiter(limitBytes);
    limiter.once('exceeded', () => {
      // Stop feeding the parser; the rest of the body is read and discarded.
      request.unpipe(limiter);
      request.resume();
    });
    request.pipe(limiter);

    const reject = (rejection: BulkRejection) => {
      summary.rejected += 1;
      if (summary.rejections.length < MAX_LISTED_REJECTIONS) summary.rejections.push(rejection);
      else summary.rejectionsOmitted = (summary.rejectionsOmitted ?? 0) + 1;
    };
    let chunk: BatchReading[] = [];
    let chunkRowNumbers: number[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const readings = chunk;
      const rowNumbers = chunkRowNumbers;
      chunk = [];
      chunkRowNumbers = [];
      const results = await options.ingest.ingest({
        readings,
        source: `csv:${uploadId}`,
        now: clock(),
      });
      results.forEach((result, index) => {
        if (result.status === 'rejected') {
          reject({
            row: rowNumbers[index]!,
            meterId: result.meterId,
            field: result.field.replace(/^readings\[\d+\]\.?/, '') || 'row',
            reason: result.reason,
          });
        } else {
          summary[result.status] += 1;
        }
      });
    };

    try {
      for await (const parsed of parseBulkReadings(limiter, format)) {
        summary.rows += 1;
        if ('error' in parsed) {
          reject({ row: parsed.row, meterId: '', ...parsed.error });
          continue;
        }
        chunk.push({ ...parsed.reading, meterId: parsed.meterId });
        chunkRowNumbers.push(parsed.row);
        if (chunk.length >= chunkRows) await flush();
      }
      await flush();
    } catch (error) {
      if (error instanceof BulkFormatError) throw ValidationError.field(error.field, error.message);
      throw error;
    } finally {
      // Whatever stopped the parser, the rest of the body is read and discarded.
      request.unpipe(limiter);
      request.resume();
    }
    if (limiter.exceeded) {
      tooLarge(response, limitBytes, summary);
      return;
    }
    response.status(200).json(summary);
  });
}

function tooLarge(
  response: { status(code: number): { type(t: string): { send(body: string): unknown } } },
  limitBytes: number,
  summary: BulkUploadSummary,
): void {
  const { problem } = toProblem(
    new TooLargeError(
      `the upload is larger than ${limitBytes} bytes: ${summary.rows} rows before the limit were ` +
        'processed and their readings stay ingested; send the rest in another upload',
    ),
  );
  response
    .status(413)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...problem, limitBytes, upload: summary }));
}

/**
 * Passes whole lines only, counting the bytes that stream through. Once the count passes the
 * limit it ends its output at the last line break within the limit and emits 'exceeded', so the
 * parser never sees a line cut in half (a truncated value would read as a different number).
 */
export class LineLimiter extends Transform {
  private bytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  exceeded = false;

  constructor(private readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.exceeded) return callback();
    const room = this.limitBytes - this.bytes;
    this.bytes += chunk.length;
    if (this.bytes > this.limitBytes) {
      const within = Buffer.concat([this.tail, chunk.subarray(0, Math.max(room, 0))]);
      const lastBreak = within.lastIndexOf(0x0a);
      if (lastBreak >= 0) this.push(within.subarray(0, lastBreak + 1));
      this.tail = Buffer.alloc(0);
      this.exceeded = true;
      this.push(null);
      this.emit('exceeded');
      return callback();
    }
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const lastBreak = data.lastIndexOf(0x0a);
    if (lastBreak < 0) {
      this.tail = data;
    } else {
      this.tail = Buffer.from(data.subarray(lastBreak + 1));
      this.push(data.subarray(0, lastBreak + 1));
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.exceeded && this.tail.length > 0) this.push(this.tail);
    callback();
  }
}
