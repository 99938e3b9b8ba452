import type { IHeaders } from 'kafkajs';

/** CloudEvents Kafka protocol binding, binary content mode, plus W3C trace context. */
export const CE = {
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  specversion: 'ce_specversion',
  subject: 'ce_subject',
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** Headers a dead letter carries besides the original ones. */
export const DLQ = {
  originalTopic: 'dlq_original_topic',
  originalPartition: 'dlq_original_partition',
  originalOffset: 'dlq_original_offset',
  consumerGroup: 'dlq_consumer_group',
  error: 'dlq_error',
  errorType: 'dlq_error_type',
  attempts: 'dlq_attempts',
  failedAt: 'dlq_failed_at',
  replayedFrom: 'dlq_replayed_from_offset',
} as const;

export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

export function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[key] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return result;
}
