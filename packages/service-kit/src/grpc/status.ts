import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { isSpanContextValid, trace, type Span } from '@opentelemetry/api';
import { isDatabaseUnavailable, WrongExpectedVersionError } from '@park/eventstore';
import {
  ApiError,
  GRPC_STATUS,
  databaseUnavailable,
  ValidationError,
  type FieldViolation,
} from '../errors';

/** The trailer that carries a serialized google.rpc.Status (the "richer error model"). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
export const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';

export interface MappedError {
  status: grpc.StatusObject;
  /** True when the error was not meant for the caller: it must be logged, never shown. */
  internal: boolean;
}

/**
 * The status a caller sees for an error a handler threw: ApiErrors by their kind, event-store
 * conflicts as ABORTED (the client may retry its read-modify-write), anything else INTERNAL with
 * only a trace id, since messages of unexpected errors can carry SQL, hosts or secrets. A database
 * out of reach (or no pool connection free in time: overload) is UNAVAILABLE, which clients retry
 * with backoff.
 */
export function mapError(thrown: unknown, traceId: string): MappedError {
  const metadata = new grpc.Metadata();
  const error = isDatabaseUnavailable(thrown) ? databaseUnavailable() : thrown;
  if (error instanceof ValidationError) {
    const code = GRPC_STATUS[error.kind];
    const details = `invalid argument: ${error.message}`;
    metadata.set(STATUS_DETAILS_KEY, encodeBadRequestStatus(code, details, error.violations));
    return { status: { code, details, metadata }, internal: false };
  }
  if (error instanceof ApiError) {
    return {
      status: { code: GRPC_STATUS[error.kind], details: error.message, metadata },
      internal: false,
    };
  }
  if (error instanceof WrongExpectedVersionError) {
    return {
      status: {
        code: grpc.status.ABORTED,
        details: 'the resource was changed concurrently: read it again and retry',
        metadata,
      },
      internal: false,
    };
  }
  return {
    status: { code: grpc.status.INTERNAL, details: `internal error (trace ${traceId})`, metadata },
    internal: true,
  };
}

/** The active span's trace id, so a caller's report can be matched to the logs and the trace. */
export function traceIdOf(span: Span | undefined): string {
  const context = span?.spanContext();
  if (context && isSpanContextValid(context)) return context.traceId;
  // No tracing in this process: a random id in the same format still ties message to log line.
  return randomBytes(16).toString('hex');
}

export function activeSpan(): Span | undefined {
  return trace.getActiveSpan();
}

/** google.rpc.Status{code, message, details: [Any(google.rpc.BadRequest)]}, wire-encoded. */
export function encodeBadRequestStatus(
  code: number,
  message: string,
  violations: readonly FieldViolation[],
): Buffer {
  const badRequest = new BinaryWriter();
  for (const violation of violations) {
    badRequest
      .tag(1, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string(violation.field)
      .tag(2, WireType.LengthDelimited)
      .string(violation.description)
      .join();
  }
  const status = new BinaryWriter()
    .tag(1, WireType.Varint)
    .int32(code)
    .tag(2, WireType.LengthDelimited)
    .string(message)
    .tag(3, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.LengthDelimited)
    .string(BAD_REQUEST_TYPE_URL)
    .tag(2, WireType.LengthDelimited)
    .bytes(badRequest.finish())
    .join();
  return Buffer.from(status.finish());
}

/**
 * The field violations a server put in an INVALID_ARGUMENT status (google.rpc.BadRequest in
 * grpc-status-details-bin); empty when the error carries none. For clients and tests.
 */
export function fieldViolationsOf(error: { metadata?: grpc.Metadata }): FieldViolation[] {
  const [bytes] = error.metadata?.get(STATUS_DETAILS_KEY) ?? [];
  if (!(bytes instanceof Buffer)) return [];
  const violations: FieldViolation[] = [];
  const status = new BinaryReader(bytes);
  while (status.pos < status.len) {
    const [field, wireType] = status.tag();
    if (field !== 3) {
      status.skip(wireType);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let typeUrl = '';
    let value: Uint8Array | undefined;
    while (any.pos < any.len) {
      const [anyField, anyWire] = any.tag();
      if (anyField === 1) typeUrl = any.string();
      else if (anyField === 2) value = any.bytes();
      else any.skip(anyWire);
    }
    if (typeUrl !== BAD_REQUEST_TYPE_URL || !value) continue;
    const badRequest = new BinaryReader(value);
    while (badRequest.pos < badRequest.len) {
      const [brField, brWire] = badRequest.tag();
      if (brField !== 1) {
        badRequest.skip(brWire);
        continue;
      }
      const entry = new BinaryReader(badRequest.bytes());
      const violation: FieldViolation = { field: '', description: '' };
      while (entry.pos < entry.len) {
        const [entryField, entryWire] = entry.tag();
        if (entryField === 1) violation.field = entry.string();
        else if (entryField === 2) violation.description = entry.string();
        else entry.skip(entryWire);
      }
      violations.push(violation);
    }
  }
  return violations;
}
