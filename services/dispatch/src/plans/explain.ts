import { ValidationError } from '@park/service-kit/errors';
import type { Topology } from '../topology/topology';
import type { StoredPlan } from './plan-service';

const EPS = 1e-6;

export interface IntervalExplanation {
  start: string;
  importPrice: number;
  exportPrice: number;
  batteries: {
    batteryId: string;
    action: string;
    powerKw: number;
    socKwh: number;
    drivers: string[];
  }[];
  binding: string[];
}

/**
 * Why the plan does what it does in one interval, from the plan's own numbers: where the
 * interval's price ranks in the day, which battery limits are reached, which grid limits bind
 * and which violations the plan reports there.
 */
export function explainInterval(
  plan: StoredPlan,
  topology: Topology,
  interval: number,
): IntervalExplanation {
  const step = plan.result.intervals[interval];
  if (!step) {
    throw ValidationError.field(
      'interval',
      `must be from 0 to ${plan.result.intervals.length - 1}`,
    );
  }
  const prices = plan.importPriceCnyPerKwh;
  const price = prices[interval]!;
  const sorted = [...prices].sort((a, b) => a - b);
  const rank = sorted.indexOf(price) / Math.max(1, sorted.length - 1);
  const priceNote =
    price === sorted[0]
      ? `import price ${price} CNY/kWh is the day's lowest`
      : price === sorted[sorted.length - 1]
        ? `import price ${price} CNY/kWh is the day's highest`
        : `import price ${price} CNY/kWh is ${rank < 0.5 ? 'below' : 'above'} the day's median`;
  const grid = topology.grid;
  const binding: string[] = [];
  if (grid && Math.abs(step.importKw - Number(grid.importLimitKw)) < EPS) {
    binding.push(`import at its limit of ${grid.importLimitKw} kW`);
  }
  if (grid && step.exportKw > EPS && Math.abs(step.exportKw - Number(grid.exportLimitKw)) < EPS) {
    binding.push(`export at its limit of ${grid.exportLimitKw} kW`);
  }
  for (const violation of plan.result.violations.filter((v) => v.interval === interval)) {
    binding.push(`${violation.name}: ${violation.constraint} (${violation.sizeKwh} kWh)`);
  }
  const batteries = step.batteries.map((battery) => {
    const def = topology.batteries[battery.assetId];
    const drivers = [priceNote];
    const action =
      battery.chargeKw > EPS ? 'charge' : battery.dischargeKw > EPS ? 'discharge' : 'idle';
    if (def) {
      const energy = Number(def.energyKwh);
      if (Math.abs(battery.socKwh - energy * Number(def.socMaxFraction)) < 1e-3)
        drivers.push('SOC at its maximum');
      if (Math.abs(battery.socKwh - energy * Number(def.socMinFraction)) < 1e-3)
        drivers.push('SOC at its minimum');
      if (Math.abs(battery.chargeKw - Number(def.maxChargeKw)) < EPS)
        drivers.push('charging at full power');
      if (Math.abs(battery.dischargeKw - Number(def.maxDischargeKw)) < EPS)
        drivers.push('discharging at full power');
    }
    const surplus =
      step.generation.reduce((sum, g) => sum + g.usedKw, 0) > (plan.loadKw[interval] ?? 0) + EPS;
    if (action === 'charge' && surplus) drivers.push('renewable output above load');
    return {
      batteryId: battery.assetId,
      action,
      powerKw: battery.dischargeKw - battery.chargeKw,
      socKwh: battery.socKwh,
      drivers,
    };
  });
  return {
    start: step.start,
    importPrice: price,
    exportPrice: plan.exportPriceCnyPerKwh[interval]!,
    batteries,
    binding,
  };
}
