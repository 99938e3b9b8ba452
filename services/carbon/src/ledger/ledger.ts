import type { Posting, PostingFigures } from '../accounting/model';

/**
 * The ledger: one stream per enterprise and month (park time). Each event records lines; a
 * line is a posting (a reading's accounting), the reversal of an earlier posting that a new
 * value, allocation or factor version replaces, or the coverage of retired certificates.
 * Lines only add up: a period's figures are the sum of its lines.
 */
export type LedgerCause =
  'reading' | 'estimate' | 'correction' | 'allocation' | 'restatement' | 'certificates';

export type LedgerLineKind = 'posting' | 'reversal' | 'certificate_coverage';

export interface LedgerLine {
  kind: LedgerLineKind;
  posting: Posting;
  /** Booked after the interval's month closed: disclosed as a prior-period adjustment. */
  priorPeriod: boolean;
  certificateSerials?: string[];
}

export interface PostingsRecorded {
  type: 'PostingsRecorded';
  enterpriseId: string;
  parkId: string;
  /** YYYY-MM of the stream, in park time. */
  month: string;
  /** The park's time zone, which cuts the lines into hours for the emissions topic. */
  timeZone: string;
  cause: LedgerCause;
  /** The metering event id, the allocation, or the command behind the lines. */
  source: string;
  /** Restatements: the factor version that caused them. */
  factorSet?: { setId: string; version: number };
  lines: LedgerLine[];
}

export interface PeriodClosed {
  type: 'PeriodClosed';
  enterpriseId: string;
  parkId: string;
  month: string;
  figures: PostingFigures;
  closedBy: string;
}

export type LedgerEvent = PostingsRecorded | PeriodClosed;

export function ledgerStreamId(enterpriseId: string, month: string): string {
  return `ledger-${enterpriseId}-${month}`;
}

/** What stands for one reading now: the posting it was booked as, if any. */
export interface StandingPosting {
  posting: Posting;
}

/**
 * The lines that move a reading's booking from what stands to `next`: nothing when they are
 * the same (a redelivered or repeated value), the posting alone when nothing stood, else the
 * reversal of the old posting and the new one. `next` undefined (no longer accounted) reverses.
 */
export function rebook(
  standing: Posting | undefined,
  next: Posting | undefined,
  same: (a: Posting, b: Posting) => boolean,
  reverse: (posting: Posting) => Posting,
  priorPeriod: boolean,
): LedgerLine[] {
  if (standing && next && same(standing, next)) return [];
  const lines: LedgerLine[] = [];
  if (standing) lines.push({ kind: 'reversal', posting: reverse(standing), priorPeriod });
  if (next) lines.push({ kind: 'posting', posting: next, priorPeriod });
  return lines;
}
