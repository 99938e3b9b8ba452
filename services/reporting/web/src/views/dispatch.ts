// Dispatch against what happened: the plan's grid import and load beside the metered import, each
// battery's planned power and setpoints and its planned SOC against the metered one, the plans
// issued for the day with their violations, and the setpoints with their acknowledgement.

import type { DispatchView } from '../../../src/dashboard/contract';
import { getJson } from '../api';
import { categoryAxis, chart, COLORS, legend, tooltip, valueAxis } from '../charts';
import { dateInput, field } from '../controls';
import { fill, h, notice, table } from '../dom';
import { clock, dateTime, fixed } from '../format';
import { parkOf, route, type Context, type View } from '../view';

export function dispatchView(ctx: Context): View {
  const park = parkOf(ctx)!;
  const day = ctx.params.get('day') ?? park.today;
  const body = h('div');
  const root = h(
    'section',
    { class: 'view', 'aria-labelledby': 'dispatch-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h2', { id: 'dispatch-title' }, `Dispatch · ${park.parkId} · ${day}`),
      h(
        'form',
        { class: 'controls', onsubmit: (event: Event) => event.preventDefault() },
        field(
          'Day',
          dateInput(day, (value) =>
            ctx.navigate(route('dispatch', { park: park.parkId, day: value })),
          ),
        ),
      ),
    ),
    body,
  );

  function draw(view: DispatchView) {
    const labels = view.starts.map((s) => clock(s, park.timeZone));
    const importChart = h('div', { class: 'chart chart-wide', role: 'img' });
    const batteryCharts = view.batteries.map((battery) => ({
      battery,
      power: h('div', { class: 'chart', role: 'img' }),
      soc: h('div', { class: 'chart', role: 'img' }),
    }));
    const violations = view.plans.flatMap((plan) => plan.violations.map((v) => ({ plan, v })));
    fill(
      body,
      view.plans.length === 0 ? notice(`No dispatch plan for ${day}.`, 'warning') : null,
      h(
        'section',
        { 'aria-labelledby': 'import-title' },
        h('h3', { id: 'import-title' }, 'Grid import and load: plan against metered (kW)'),
        importChart,
      ),
      h(
        'section',
        { 'aria-labelledby': 'batteries-title' },
        h('h3', { id: 'batteries-title' }, 'Batteries: plan, setpoints and state of charge'),
        view.topology
          ? null
          : notice(
              `Battery capacities and SOC meters unknown (${view.topologyNote ?? 'no topology'}): planned SOC in kWh, no metered SOC.`,
              'warning',
            ),
        batteryCharts.length === 0 ? notice('No batteries in the plan.') : null,
        h(
          'div',
          { class: 'chart-grid' },
          batteryCharts.flatMap(({ battery, power, soc }) => [
            h(
              'figure',
              {},
              h('figcaption', {}, `${battery.batteryId}: power (kW, + discharges)`),
              power,
            ),
            h(
              'figure',
              {},
              h(
                'figcaption',
                {},
                `${battery.batteryId}: state of charge${battery.energyKwh ? ` (% of ${fixed(battery.energyKwh, 0)} kWh)` : ' (kWh)'}`,
              ),
              soc,
            ),
          ]),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'violations-title' },
        h('h3', { id: 'violations-title' }, 'Plan violations'),
        table(
          `Constraints the plans could not meet: ${violations.length}`,
          ['Plan', 'Interval', 'Asset', 'Constraint', 'Size (kWh)'],
          violations.map(({ plan, v }) => [
            plan.planId,
            v.start ? clock(v.start, park.timeZone) : 'whole day',
            v.assetId || '–',
            v.constraint,
            fixed(v.sizeKwh, 1),
          ]),
          { class: 'violations' },
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'plans-title' },
        h('h3', { id: 'plans-title' }, 'Plans issued'),
        table(
          `Plans for ${day}`,
          ['Plan', 'Kind', 'Status', 'Issued', 'From', 'Assets in safe mode', 'Notes'],
          view.plans.map((plan) => [
            plan.planId,
            plan.kind,
            plan.status,
            dateTime(plan.issuedAt, park.timeZone),
            plan.firstStart ? clock(plan.firstStart, park.timeZone) : '',
            plan.assetsInSafeMode.join(', ') || '–',
            plan.notes.join(' · '),
          ]),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'setpoints-title' },
        h('h3', { id: 'setpoints-title' }, 'Setpoints'),
        table(
          `Setpoints of the day’s plans: ${view.setpoints.length}`,
          ['Asset', 'Valid', 'Power (kW)', 'Status', 'Acknowledged', 'Safe mode'],
          view.setpoints.map((sp) => [
            sp.assetId,
            `${clock(sp.validFrom, park.timeZone)}–${clock(sp.validUntil, park.timeZone)}`,
            fixed(sp.powerKw, 1),
            h('span', { class: `badge setpoint-${sp.status}` }, sp.status),
            sp.acknowledgedAt ? dateTime(sp.acknowledgedAt, park.timeZone) : '–',
            sp.safeMode ?? '–',
          ]),
          { class: 'setpoints' },
        ),
      ),
    );

    importChart.setAttribute(
      'aria-label',
      `Planned and metered grid import and planned load on ${day}`,
    );
    chart('dispatch-import', importChart, {
      legend,
      tooltip: { ...tooltip, valueFormatter: (v: unknown) => `${fixed(v as number, 1)} kW` },
      grid: { left: 64, right: 16, top: 40, bottom: 32 },
      xAxis: categoryAxis(labels),
      yAxis: valueAxis('kW'),
      series: [
        { id: 'plannedImportKw', name: 'Planned grid import', color: COLORS.plan, dash: 'dashed' },
        { id: 'actualImportKw', name: 'Metered grid import', color: COLORS.grid, dash: 'solid' },
        { id: 'plannedLoadKw', name: 'Planned load', color: COLORS.load, dash: 'dotted' },
      ].map(({ id, name, color, dash }) => ({
        id,
        name,
        type: 'line',
        symbol: 'none',
        lineStyle: { color, width: 2, type: dash },
        itemStyle: { color },
        data: view[id as 'plannedImportKw' | 'actualImportKw' | 'plannedLoadKw'],
      })),
    });

    for (const { battery, power, soc } of batteryCharts) {
      power.setAttribute('aria-label', `${battery.batteryId}: planned power and setpoints, kW`);
      chart(`battery-${battery.batteryId}-power`, power, {
        legend,
        tooltip: { ...tooltip, valueFormatter: (v: unknown) => `${fixed(v as number, 1)} kW` },
        grid: { left: 64, right: 12, top: 40, bottom: 32 },
        xAxis: categoryAxis(labels),
        yAxis: valueAxis('kW'),
        series: [
          {
            id: 'powerKw',
            name: 'Planned (discharge − charge)',
            type: 'bar',
            itemStyle: { color: COLORS.storage },
            data: battery.powerKw,
          },
          {
            id: 'setpointKw',
            name: 'Setpoint in force',
            type: 'line',
            step: 'start',
            symbol: 'none',
            lineStyle: { color: COLORS.pv, width: 2 },
            itemStyle: { color: COLORS.pv },
            data: battery.setpointKw,
          },
        ],
      });
      const percentScale = battery.energyKwh !== undefined;
      soc.setAttribute('aria-label', `${battery.batteryId}: planned and metered state of charge`);
      chart(`battery-${battery.batteryId}-soc`, soc, {
        legend,
        tooltip: {
          ...tooltip,
          valueFormatter: (v: unknown) =>
            percentScale ? `${fixed(v as number, 1)} %` : `${fixed(v as number, 0)} kWh`,
        },
        grid: { left: 64, right: 12, top: 40, bottom: 32 },
        xAxis: categoryAxis(labels),
        yAxis: valueAxis(percentScale ? '%' : 'kWh', percentScale ? { min: 0, max: 100 } : {}),
        series: [
          {
            id: percentScale ? 'socPercent' : 'socKwh',
            name: 'Planned SOC',
            type: 'line',
            symbol: 'none',
            lineStyle: { color: COLORS.plan, width: 2, type: 'dashed' },
            itemStyle: { color: COLORS.plan },
            data: percentScale ? battery.socPercent : battery.socKwh,
          },
          ...(percentScale
            ? [
                {
                  id: 'meteredSocPercent',
                  name: 'Metered SOC',
                  type: 'line',
                  symbol: 'none',
                  lineStyle: { color: COLORS.wind, width: 2 },
                  itemStyle: { color: COLORS.wind },
                  data: battery.meteredSocPercent,
                },
              ]
            : []),
        ],
      });
    }
  }

  return {
    root,
    async refresh() {
      draw(
        await getJson<DispatchView>(
          `/v1/dashboard/parks/${encodeURIComponent(park.parkId)}/dispatch`,
          { day },
        ),
      );
    },
  };
}
