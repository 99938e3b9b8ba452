/**
 * Park-local calendar days ("YYYY-MM-DD") and months ("YYYY-MM") as plain text. Certificates are
 * issued per generation month and retired against park-local days, so no instant or time zone is
 * involved: the caller already turned its metered interval into local days.
 */

const LOCAL_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const YEAR_MONTH = /^(\d{4})-(\d{2})$/;

/** True for a real calendar day: "2025-02-30" is refused rather than rolled into March. */
export function isLocalDay(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const match = LOCAL_DAY.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

export function isYearMonth(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const match = YEAR_MONTH.exec(text);
  if (!match) return false;
  const month = Number(match[2]);
  return month >= 1 && month <= 12;
}

/** "2025-03-14" -> "2025-03". */
export function monthOfDay(localDay: string): string {
  return localDay.slice(0, 7);
}

/**
 * Whole months from `earlier` to `later` ("2024-03" to "2025-03" is 12); negative when `earlier`
 * is in fact later. Both must be valid year-months.
 */
export function monthsBetween(earlier: string, later: string): number {
  return monthOrdinal(later) - monthOrdinal(earlier);
}

function monthOrdinal(yearMonth: string): number {
  return Number(yearMonth.slice(0, 4)) * 12 + Number(yearMonth.slice(5, 7)) - 1;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
