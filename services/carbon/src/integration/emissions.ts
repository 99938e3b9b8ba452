import { park } from '@park/contracts';
import { Dec, decimalText, startOfLocalHour } from '@park/domain-primitives';
import type { RecordedEvent } from '@park/eventstore';
import type { IntegrationEventMapper, IntegrationMessage, TopicSpec } from '@park/messaging';
import { sumFigures, zeroFigures } from '../accounting';
import type { PostingFigures } from '../accounting/model';
import type { LedgerLine, PostingsRecorded } from '../ledger/ledger';

/** Per enterprise and hour: accounted changes and restatements; key = enterprise id. */
export const CARBON_EMISSIONS_TOPIC = 'park.carbon.emissions.v1';

export const carbonTopics: readonly TopicSpec[] = [
  { name: CARBON_EMISSIONS_TOPIC, partitions: 12, retentionMs: -1, withDeadLetterTopic: true },
];

const v1 = park.carbon.v1;

/** decimalText's own output: no sign on zero, no leading or trailing zeros, no exponent. */
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

export function figuresToProto(figures: PostingFigures): park.carbon.v1.Figures {
  // Figures are mostly decimalText's output already (sumFigures'), which it gives back as is.
  const d = (value: string) => ({
    value: CANONICAL_DECIMAL.test(value) && value !== '-0' ? value : decimalText(new Dec(value)),
  });
  return {
    energyKgce: d(figures.energyKgce),
    electricityKwh: d(figures.electricityKwh),
    gridKwh: d(figures.gridKwh),
    renewableKwh: d(figures.renewableKwh),
    carbonFreeKwh: d(figures.carbonFreeKwh),
    scope1Kgco2e: d(figures.scope1KgCo2e),
    scope2LocationKgco2e: d(figures.scope2LocationKgCo2e),
    scope2MarketKgco2e: d(figures.scope2MarketKgCo2e),
  };
}

function negate(figures: PostingFigures): PostingFigures {
  return Object.fromEntries(
    Object.entries(figures).map(([key, value]) => [key, decimalText(new Dec(value).neg())]),
  ) as unknown as PostingFigures;
}

interface Hour {
  start: number;
  before: PostingFigures[];
  after: PostingFigures[];
  all: PostingFigures[];
  internal: PostingFigures[];
  priorPeriod: boolean;
}

function byHour(event: PostingsRecorded): Hour[] {
  const hours = new Map<number, Hour>();
  const add = (line: LedgerLine) => {
    const start = startOfLocalHour(Date.parse(line.posting.intervalStart), event.timeZone);
    const hour = hours.get(start) ?? {
      start,
      before: [],
      after: [],
      all: [],
      internal: [],
      priorPeriod: false,
    };
    hour.all.push(line.posting.figures);
    if (line.posting.internalSupplierId) hour.internal.push(line.posting.figures);
    if (line.kind === 'reversal') hour.before.push(negate(line.posting.figures));
    else hour.after.push(line.posting.figures);
    hour.priorPeriod ||= line.priorPeriod;
    hours.set(start, hour);
  };
  event.lines.forEach(add);
  return [...hours.values()].sort((a, b) => a.start - b.start);
}

/**
 * Ledger events to the emissions topic: restatements as EmissionsRestated (each hour's restated
 * postings before and after), every other booking as HourlyEmissionsAccounted (each hour's
 * change). Period closes are not published.
 */
export const carbonEventMapper: IntegrationEventMapper = (
  event: RecordedEvent,
): IntegrationMessage | null => {
  if (event.type !== 'PostingsRecorded') return null;
  const data = { type: 'PostingsRecorded', ...event.data } as unknown as PostingsRecorded;
  const hours = byHour(data);
  if (data.cause === 'restatement') {
    const message: park.carbon.v1.EmissionsRestated = {
      enterpriseId: data.enterpriseId,
      factorSetId: data.factorSet?.setId ?? '',
      factorSetVersion: data.factorSet?.version ?? 0,
      hours: hours.map((hour) => ({
        hourStart: new Date(hour.start),
        before: figuresToProto(hour.before.length ? sumFigures(hour.before) : zeroFigures()),
        after: figuresToProto(hour.after.length ? sumFigures(hour.after) : zeroFigures()),
        change: figuresToProto(sumFigures(hour.all)),
        priorPeriodAdjustment: hour.priorPeriod,
        internalChange: figuresToProto(sumFigures(hour.internal)),
      })),
    };
    return {
      topic: CARBON_EMISSIONS_TOPIC,
      key: data.enterpriseId,
      type: 'park.carbon.v1.EmissionsRestated',
      payload: v1.EmissionsRestated.encode(message).finish(),
      subject: data.enterpriseId,
    };
  }
  const message: park.carbon.v1.HourlyEmissionsAccounted = {
    enterpriseId: data.enterpriseId,
    cause: data.cause,
    hours: hours.map((hour) => ({
      hourStart: new Date(hour.start),
      change: figuresToProto(sumFigures(hour.all)),
      priorPeriodAdjustment: hour.priorPeriod,
      internalChange: figuresToProto(sumFigures(hour.internal)),
    })),
  };
  return {
    topic: CARBON_EMISSIONS_TOPIC,
    key: data.enterpriseId,
    type: 'park.carbon.v1.HourlyEmissionsAccounted',
    payload: v1.HourlyEmissionsAccounted.encode(message).finish(),
    subject: data.enterpriseId,
  };
};
