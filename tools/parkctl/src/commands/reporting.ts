// The reporting service: the park's KPIs and the projections behind them.
import { park } from '@park/contracts';
import type { Context } from '../context';
import { labelOf, parseEnumOf } from '../enums';
import { UsageError } from '../errors';
import { listView, type Column, type View } from '../output';
import { iso, required } from '../values';

const v1 = park.reporting.v1;

const PERIOD_SHAPES: Record<string, RegExp> = {
  day: /^\d{4}-\d{2}-\d{2}$/,
  month: /^\d{4}-\d{2}$/,
  year: /^\d{4}$/,
};

const KPI_COLUMNS: Column[] = [
  { key: 'name' },
  { key: 'label' },
  { key: 'value', align: 'right' },
  { key: 'unit' },
  { key: 'target', align: 'right' },
  { key: 'status' },
];

export async function kpis(
  ctx: Context,
  parkId: string,
  options: { granularity?: string; period?: string },
): Promise<View> {
  const granularityText = options.granularity ?? 'month';
  const granularity = parseEnumOf('granularity', granularityText, '--granularity');
  const period = required(options.period, '--period');
  const shape = PERIOD_SHAPES[labelOf('granularity', granularity)];
  if (shape && !shape.test(period)) {
    throw new UsageError(
      `--period of a ${labelOf('granularity', granularity)} is ${
        { day: 'YYYY-MM-DD', month: 'YYYY-MM', year: 'YYYY' }[labelOf('granularity', granularity)]
      } (not "${period}")`,
    );
  }
  const response = await ctx.unary<'reporting', park.reporting.v1.GetParkKpisResponse>(
    'reporting',
    (client, md, opts, done) => client.getParkKpis({ parkId, granularity, period }, md, opts, done),
  );
  const view = listView(
    v1.GetParkKpisResponse.toJSON(response),
    KPI_COLUMNS,
    response.kpis.map((kpi) => ({
      name: kpi.name,
      label: kpi.label,
      value: kpi.value?.value ?? 'no data',
      unit: kpi.unit,
      target: kpi.target ? `${kpi.comparison} ${kpi.target.value}` : undefined,
      status: labelOf('kpiStatus', kpi.status).replace(/_/g, ' '),
    })),
    '(no KPIs)',
  );
  view.notes = [
    `${response.parkId || parkId} ${response.period || period}: size band ${response.sizeBand || '-'}, ` +
      `Scope 2 ${response.scope2Method || 'market'}-based in the indicator`,
  ];
  return view;
}

const PROJECTION_COLUMNS: Column[] = [
  { key: 'name' },
  { key: 'active_version', header: 'active', align: 'right' },
  { key: 'building_version', header: 'building', align: 'right' },
  { key: 'progress', align: 'right' },
  { key: 'switched_at', header: 'switched' },
];

function projectionsView(projections: park.reporting.v1.Projection[]): View {
  return listView(
    projections.map((p) => v1.Projection.toJSON(p)),
    PROJECTION_COLUMNS,
    projections.map((p) => ({
      name: p.name,
      active_version: p.activeVersion,
      building_version: p.buildingVersion || undefined,
      progress: p.buildingVersion
        ? `${p.buildingApplied}/${p.buildingTarget}${
            p.buildingTarget > 0n
              ? ` (${Number((p.buildingApplied * 1000n) / p.buildingTarget) / 10} %)`
              : ''
          }`
        : undefined,
      switched_at: iso(p.switchedAt),
    })),
    '(no projections)',
  );
}

export async function listProjections(ctx: Context): Promise<View> {
  const response = await ctx.unary<'reporting', park.reporting.v1.ListProjectionsResponse>(
    'reporting',
    (client, md, opts, done) => client.listProjections({}, md, opts, done),
  );
  return projectionsView(response.projections);
}

/** Starts rebuilding one projection (or all of them); `projections list` follows the progress. */
export async function rebuildProjection(ctx: Context, name: string | undefined): Promise<View> {
  const response = await ctx.unary<'reporting', park.reporting.v1.RebuildProjectionResponse>(
    'reporting',
    (client, md, opts, done) => client.rebuildProjection({ name: name ?? '' }, md, opts, done),
  );
  const view = projectionsView(response.projections);
  view.notes = [
    'rebuilding in new tables while the old ones serve; `parkctl projections list` shows the progress',
  ];
  return view;
}
