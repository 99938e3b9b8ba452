import { park } from '@park/contracts';
import type { Queryable } from '@park/eventstore';
import { decodePayload, PermanentMessageError, type ConsumedMessage } from '@park/messaging';
import type { Projection } from './projection';

export const CARBON_EMISSIONS_TOPIC = 'park.carbon.emissions.v1';

export const FIGURE_COLUMNS = [
  'energy_kgce',
  'electricity_kwh',
  'grid_kwh',
  'renewable_kwh',
  'carbon_free_kwh',
  'scope1_kgco2e',
  'scope2_location_kgco2e',
  'scope2_market_kgco2e',
] as const;

type FigureColumn = (typeof FIGURE_COLUMNS)[number];

/** Every figure column: the change, then the part of it carried by internal transfers. */
const ALL = [...FIGURE_COLUMNS, ...FIGURE_COLUMNS.map((c) => `internal_${c}`)];

function figureValues(figures: park.carbon.v1.Figures | undefined): Record<FigureColumn, string> {
  const value = (d: park.common.v1.Decimal | undefined) => d?.value || '0';
  return {
    energy_kgce: value(figures?.energyKgce),
    electricity_kwh: value(figures?.electricityKwh),
    grid_kwh: value(figures?.gridKwh),
    renewable_kwh: value(figures?.renewableKwh),
    carbon_free_kwh: value(figures?.carbonFreeKwh),
    scope1_kgco2e: value(figures?.scope1Kgco2e),
    scope2_location_kgco2e: value(figures?.scope2LocationKgco2e),
    scope2_market_kgco2e: value(figures?.scope2MarketKgco2e),
  };
}

/**
 * Per enterprise and hour, carbon's accounted figures: the sum of every change the emissions
 * topic carried for the hour (accountings and restatements alike), with the part carried by
 * internal transfers kept apart so park totals count that energy once.
 */
export const emissionsProjection: Projection = {
  name: 'emissions',
  shape: 1,
  topics: [CARBON_EMISSIONS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    const columns = FIGURE_COLUMNS.map(
      (c) => `${c} numeric NOT NULL DEFAULT 0, internal_${c} numeric NOT NULL DEFAULT 0`,
    ).join(', ');
    await db.query(`
      CREATE TABLE ${schema}.enterprise_hours (enterprise_id text NOT NULL,
        hour_start timestamptz NOT NULL, ${columns}, PRIMARY KEY (enterprise_id, hour_start));
      CREATE INDEX ON ${schema}.enterprise_hours (hour_start);
    `);
  },
  async apply(db, schema, message) {
    const { enterpriseId, rows } = emissionsRows(message);
    await db.query(
      `INSERT INTO ${schema}.enterprise_hours (enterprise_id, hour_start, ${ALL.join(', ')})
       SELECT $1, r.hour_start, ${ALL.map((c) => `r.${c}`).join(', ')}
       FROM jsonb_to_recordset($2::jsonb) AS r(hour_start timestamptz, ${ALL.map((c) => `${c} numeric`).join(', ')})
       ON CONFLICT (enterprise_id, hour_start) DO UPDATE SET
         ${ALL.map((c) => `${c} = ${schema}.enterprise_hours.${c} + EXCLUDED.${c}`).join(', ')}`,
      [enterpriseId, JSON.stringify(rows)],
    );
  },
  async applyMany(db, schema, messages) {
    // Every record is read first (an unreadable one throws before anything is written); the
    // changes are summed per enterprise and hour in SQL numeric, exact as the per-record sums.
    const rows = messages.flatMap((message) => {
      const { enterpriseId, rows: hours } = emissionsRows(message);
      return hours.map((hour) => ({ enterprise_id: enterpriseId, ...hour }));
    });
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO ${schema}.enterprise_hours (enterprise_id, hour_start, ${ALL.join(', ')})
       SELECT r.enterprise_id, r.hour_start, ${ALL.map((c) => `sum(r.${c})`).join(', ')}
       FROM jsonb_to_recordset($1::jsonb) AS r(enterprise_id text, hour_start timestamptz,
         ${ALL.map((c) => `${c} numeric`).join(', ')})
       GROUP BY r.enterprise_id, r.hour_start
       ON CONFLICT (enterprise_id, hour_start) DO UPDATE SET
         ${ALL.map((c) => `${c} = ${schema}.enterprise_hours.${c} + EXCLUDED.${c}`).join(', ')}`,
      [JSON.stringify(rows)],
    );
  },
};

/** An emissions record's enterprise and, per hour, the change of every column. */
function emissionsRows(message: ConsumedMessage): {
  enterpriseId: string;
  rows: Record<string, string>[];
} {
  let enterpriseId: string;
  let hours: {
    start: Date;
    change: park.carbon.v1.Figures | undefined;
    internal: park.carbon.v1.Figures | undefined;
  }[];
  if (message.type === 'park.carbon.v1.HourlyEmissionsAccounted') {
    const event = decodePayload(
      park.carbon.v1.HourlyEmissionsAccounted,
      message.type,
      message.value,
    );
    enterpriseId = event.enterpriseId;
    hours = event.hours.map((h) => ({
      start: h.hourStart!,
      change: h.change,
      internal: h.internalChange,
    }));
  } else if (message.type === 'park.carbon.v1.EmissionsRestated') {
    const event = decodePayload(park.carbon.v1.EmissionsRestated, message.type, message.value);
    enterpriseId = event.enterpriseId;
    hours = event.hours.map((h) => ({
      start: h.hourStart!,
      change: h.change,
      internal: h.internalChange,
    }));
  } else {
    throw new PermanentMessageError(`'${message.type}' is not a carbon emissions event`);
  }
  if (!enterpriseId || hours.some((h) => !h.start)) {
    throw new PermanentMessageError('emissions event without its enterprise or hour');
  }
  const rows = hours.map((h) => {
    const change = figureValues(h.change);
    const internal = figureValues(h.internal);
    return {
      hour_start: h.start.toISOString(),
      ...change,
      ...Object.fromEntries(FIGURE_COLUMNS.map((c) => [`internal_${c}`, internal[c]])),
    };
  });
  return { enterpriseId, rows };
}
