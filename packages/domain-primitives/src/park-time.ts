/**
 * Instants are UTC; calendar periods (days, months, the alignment of daily meters) are in the
 * park's IANA time zone. Intl.DateTimeFormat is the only source of zone rules, so there is no
 * time zone database to keep in sync with the runtime's.
 */
export const DEFAULT_PARK_TIME_ZONE = 'Asia/Shanghai';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

// Names only: Node 22+ also accepts "+08:00" as a time zone, but a fixed offset ignores the
// zone's rule changes, so a park must name its zone.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** The zone's canonical spelling ("asia/shanghai" -> "Asia/Shanghai"), or undefined if unknown. */
export function canonicalTimeZone(name: unknown): string | undefined {
  if (typeof name !== 'string' || !IANA_NAME.test(name)) return undefined;
  if (canonicalZones.has(name)) return canonicalZones.get(name);
  let canonical: string | undefined;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    canonical = undefined;
  }
  // Bounded: names come from commands, so a stream of made-up names must not grow it forever.
  if (canonicalZones.size >= 1_000) canonicalZones.clear();
  canonicalZones.set(name, canonical);
  return canonical;
}

/** canonicalTimeZone's answers (constructing an Intl.DateTimeFormat is expensive). */
const canonicalZones = new Map<string, string | undefined>();

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch milliseconds of an ISO 8601 instant with an explicit offset, or undefined. Stricter than
 * Date.parse, which rolls 2025-02-30 over into March and takes offset-less text as local time.
 */
export function parseInstant(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  let epochMs = parsedInstants.get(text);
  if (epochMs === undefined) {
    epochMs = parseInstantText(text);
    if (epochMs === undefined) return undefined;
    if (parsedInstants.size >= INSTANT_TEXT_CACHE) parsedInstants.clear();
    parsedInstants.set(text, epochMs);
  }
  return epochMs;
}

/** The same interval starts are parsed over and over in ingest and replay; a bounded cache. */
const parsedInstants = new Map<string, number>();

function parseInstantText(text: string): number | undefined {
  const match = ISO_INSTANT.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6] ?? '0');
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (!match[8]) {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * MINUTE_MS;
}

/** The canonical text of an instant in events and state: UTC, millisecond precision. */
export function instantText(epochMs: number): string {
  let text = instantTexts.get(epochMs);
  if (text === undefined) {
    // toISOString throws a RangeError for NaN and out-of-range instants, as before.
    text = new Date(epochMs).toISOString();
    if (instantTexts.size >= INSTANT_TEXT_CACHE) instantTexts.clear();
    instantTexts.set(epochMs, text);
  }
  return text;
}

/** The same interval starts and ends are formatted over and over in ingest; a bounded cache. */
const INSTANT_TEXT_CACHE = 50_000;
const instantTexts = new Map<number, string>();

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23: some ICU versions print midnight as "24" with hour12: false.
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The wall-clock reading in the zone at an instant. Intl's answer, which costs microseconds, is
 * taken once per zone and UTC hour: where the zone's offset holds all through that hour (every
 * hour but those with a rule change in them), the reading is the instant shifted by the offset.
 */
export function localDateTime(epochMs: number, timeZone: string): LocalDateTime {
  const offset = steadyOffsetMs(epochMs, timeZone);
  if (offset === undefined) return intlLocalDateTime(epochMs, timeZone);
  const wall = new Date(epochMs + offset);
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

function intlLocalDateTime(epochMs: number, timeZone: string): LocalDateTime {
  const local: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type in local) local[part.type as keyof LocalDateTime] = Number(part.value);
  }
  return local;
}

/** Whole milliseconds from the year 1000 to 9999: four-digit years, where Intl and Date agree. */
const STEADY_FROM_MS = Date.UTC(1000, 0, 2);
const STEADY_TO_MS = Date.UTC(9999, 11, 30);
const STEADY_OFFSET_CACHE = 50_000;
/** Per zone, per UTC hour (epoch hours): the offset all through that hour, or null. */
const steadyOffsets = new Map<string, Map<number, number | null>>();

/**
 * The zone's offset (ms) at the instant when it is the same all through the instant's UTC hour,
 * else undefined. The hour is probed at its start, every quarter of an hour and its last second,
 * so a rule change within it shows, unless the zone changed and changed back within 15 minutes,
 * which no zone has done.
 */
function steadyOffsetMs(epochMs: number, timeZone: string): number | undefined {
  if (!Number.isInteger(epochMs) || epochMs < STEADY_FROM_MS || epochMs > STEADY_TO_MS) {
    return undefined;
  }
  const hour = Math.floor(epochMs / HOUR_MS);
  let zone = steadyOffsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    steadyOffsets.set(timeZone, zone);
  }
  let offset = zone.get(hour);
  if (offset === undefined) {
    offset = offsetThroughout(hour * HOUR_MS, timeZone);
    if (zone.size >= STEADY_OFFSET_CACHE) zone.clear();
    zone.set(hour, offset);
  }
  return offset ?? undefined;
}

function offsetThroughout(hourStart: number, timeZone: string): number | null {
  const offset = intlOffsetMs(hourStart, timeZone);
  for (const at of [15, 30, 45].map((minutes) => hourStart + minutes * MINUTE_MS)) {
    if (intlOffsetMs(at, timeZone) !== offset) return null;
  }
  return intlOffsetMs(hourStart + HOUR_MS - 1000, timeZone) === offset ? offset : null;
}

/** utcOffsetMs at a whole second, from Intl itself. */
function intlOffsetMs(epochMs: number, timeZone: string): number {
  const l = intlLocalDateTime(epochMs, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - epochMs;
}

/** The zone's offset from UTC at an instant, in milliseconds (Asia/Shanghai: +8 h). */
export function utcOffsetMs(epochMs: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  const wholeSecond = Math.floor(epochMs / 1000) * 1000;
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - wholeSecond;
}

/**
 * The instant a wall-clock time occurs in the zone. The offset is looked up twice because the
 * first guess can fall on the other side of a daylight-saving change; a wall time inside a
 * spring-forward gap resolves to the instant after the gap.
 */
export function zonedInstant(
  local: Pick<LocalDateTime, 'year' | 'month' | 'day'> & Partial<LocalDateTime>,
  timeZone: string,
): number {
  const wall = Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour ?? 0,
    local.minute ?? 0,
    local.second ?? 0,
  );
  const first = wall - utcOffsetMs(wall, timeZone);
  const second = wall - utcOffsetMs(first, timeZone);
  return second === first ? first : Math.max(first, second);
}

export function startOfLocalDay(epochMs: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  return zonedInstant({ year: l.year, month: l.month, day: l.day }, timeZone);
}

/** Local midnight `days` calendar days after the local day of the instant (negative: before). */
export function startOfLocalDayAfter(epochMs: number, days: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  const date = new Date(Date.UTC(l.year, l.month - 1, l.day + days));
  return zonedInstant(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() },
    timeZone,
  );
}

export function startOfLocalMonth(epochMs: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  return zonedInstant({ year: l.year, month: l.month, day: 1 }, timeZone);
}

export function startOfNextLocalMonth(epochMs: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  const date = new Date(Date.UTC(l.year, l.month, 1));
  return zonedInstant(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: 1 },
    timeZone,
  );
}

/**
 * Start of the local clock hour. Computed from the local minutes rather than through wall-clock
 * conversion so that the two 01:00 hours of a daylight-saving fall-back stay distinct, and zones
 * with 30- or 45-minute offsets get their own hour boundaries.
 */
export function startOfLocalHour(epochMs: number, timeZone: string): number {
  const l = localDateTime(epochMs, timeZone);
  return Math.floor(epochMs / 1000) * 1000 - (l.minute * 60 + l.second) * 1000;
}

/** The local calendar date, "YYYY-MM-DD". */
export function localDate(epochMs: number, timeZone: string): string {
  const l = localDateTime(epochMs, timeZone);
  return `${String(l.year).padStart(4, '0')}-${pad2(l.month)}-${pad2(l.day)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
