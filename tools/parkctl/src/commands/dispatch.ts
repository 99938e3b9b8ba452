// `parkctl plan <park> <day>`: plans a park-local day (PlanDay), or shows the plan in force.
import { park } from '@park/contracts';
import type { Context } from '../context';
import type { Column, Section, View } from '../output';
import { parseDay } from '../time';
import { iso } from '../values';

export interface PlanOptions {
  /** Show the day's latest plan (GetPlan) instead of planning again. */
  latest?: boolean;
  /** List the 96 intervals in the table too. */
  intervals?: boolean;
}

const PLAN_COLUMNS: Column[] = [
  { key: 'plan_id', header: 'plan' },
  { key: 'park_id', header: 'park' },
  { key: 'day' },
  { key: 'kind' },
  { key: 'status' },
  { key: 'mip_gap', header: 'MIP gap' },
  { key: 'binaries' },
  { key: 'solve_ms', header: 'solve ms' },
  { key: 'total_cny', header: 'objective CNY' },
  { key: 'energy_cny', header: 'energy CNY' },
  { key: 'carbon_cny', header: 'carbon CNY' },
  { key: 'battery_wear_cny', header: 'battery wear CNY' },
  { key: 'curtailment_cny', header: 'curtailment CNY' },
  { key: 'penalty_cny', header: 'penalty CNY' },
  { key: 'issued_at', header: 'issued' },
  { key: 'safe_mode', header: 'assets in safe mode' },
];

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export async function plan(
  ctx: Context,
  parkId: string,
  dayText: string,
  options: PlanOptions,
): Promise<View> {
  const day = parseDay(dayText);
  const response = options.latest
    ? await ctx.unary<'dispatch', park.dispatch.v1.GetPlanResponse>(
        'dispatch',
        (client, md, opts, done) => client.getPlan({ parkId, day, planId: '' }, md, opts, done),
      )
    : await ctx.unary<'dispatch', park.dispatch.v1.PlanDayResponse>(
        'dispatch',
        (client, md, opts, done) => client.planDay({ parkId, day }, md, opts, done),
      );
  const p = response.plan;
  if (!p)
    return { json: null, sections: [{ columns: PLAN_COLUMNS, rows: [], empty: '(no plan)' }] };
  const sections: Section[] = [
    {
      layout: 'record',
      columns: PLAN_COLUMNS,
      rows: [
        {
          plan_id: p.planId,
          park_id: p.parkId,
          day: p.day,
          kind: p.kind,
          status: p.status,
          mip_gap: p.mipGap,
          binaries: p.binaries,
          solve_ms: p.solveMs,
          total_cny: p.objective && round(p.objective.totalCny),
          energy_cny: p.objective && round(p.objective.energyCny),
          carbon_cny: p.objective && round(p.objective.carbonCny),
          battery_wear_cny: p.objective && round(p.objective.batteryWearCny),
          curtailment_cny: p.objective && round(p.objective.curtailmentCny),
          penalty_cny: p.objective && round(p.objective.penaltyCny),
          issued_at: iso(p.issuedAt),
          safe_mode: p.assetsInSafeMode.join(' '),
        },
      ],
    },
  ];
  if (p.violations.length > 0) {
    sections.push({
      title: 'violations:',
      columns: [
        { key: 'name' },
        { key: 'interval', align: 'right' },
        { key: 'asset_id', header: 'asset' },
        { key: 'size_kwh', header: 'kWh', align: 'right' },
        { key: 'constraint' },
      ],
      rows: p.violations.map((v) => ({
        name: v.name,
        interval: v.interval,
        asset_id: v.assetId,
        size_kwh: round(v.sizeKwh, 3),
        constraint: v.constraint,
      })),
    });
  }
  if (options.intervals) {
    sections.push({
      title: 'intervals:',
      columns: [
        { key: 'start' },
        { key: 'load_kw', header: 'load kW', align: 'right' },
        { key: 'import_kw', header: 'import kW', align: 'right' },
        { key: 'export_kw', header: 'export kW', align: 'right' },
        { key: 'emissions_kg', header: 'emissions kg', align: 'right' },
        { key: 'renewable_share', header: 'renewable share', align: 'right' },
      ],
      rows: p.intervals.map((i) => ({
        start: iso(i.start),
        load_kw: round(i.loadKw, 1),
        import_kw: round(i.importKw, 1),
        export_kw: round(i.exportKw, 1),
        emissions_kg: round(i.emissionsKg, 1),
        renewable_share: round(i.renewableShare, 3),
      })),
    });
  }
  return {
    json: park.dispatch.v1.Plan.toJSON(p),
    sections,
    notes: [
      ...p.notes.map((note) => `note: ${note}`),
      ...(options.intervals ? [] : [`${p.intervals.length} intervals (--intervals lists them)`]),
    ],
  };
}
