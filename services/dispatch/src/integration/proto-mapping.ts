import { park } from '@park/contracts';
import type { StoredPlan } from '../plans/plan-service';

/** A stored plan as the contract's Plan message. */
export function planToProto(plan: StoredPlan, assetsInSafeMode: string[]): park.dispatch.v1.Plan {
  const result = plan.result;
  return {
    planId: plan.planId,
    parkId: plan.parkId,
    day: plan.day,
    status: result.status,
    mipGap: result.mipGap ?? 0,
    binaries: result.binaries,
    objective: {
      totalCny: result.objective.totalCny,
      energyCny: result.objective.energyCny,
      carbonCny: result.objective.carbonCny,
      batteryWearCny: result.objective.batteryWearCny,
      curtailmentCny: result.objective.curtailmentCny,
      penaltyCny: result.objective.penaltyCny,
    },
    intervals: result.intervals.map((interval, i) => ({
      start: new Date(interval.start),
      importKw: interval.importKw,
      exportKw: interval.exportKw,
      emissionsKg: interval.emissionsKg,
      renewableShare: interval.renewableShare,
      loadKw: plan.loadKw[i] ?? 0,
      plants: interval.generation.map((g) => ({
        plantId: g.assetId,
        usedKw: g.usedKw,
        curtailedKw: g.curtailedKw,
      })),
      batteries: interval.batteries.map((b) => ({
        batteryId: b.assetId,
        chargeKw: b.chargeKw,
        dischargeKw: b.dischargeKw,
        socKwh: b.socKwh,
      })),
    })),
    violations: result.violations.map((violation) => ({
      name: violation.name,
      constraint: violation.constraint,
      interval: violation.interval ?? -1,
      assetId: violation.assetId ?? '',
      sizeKwh: violation.sizeKwh,
    })),
    notes: plan.notes,
    issuedAt: new Date(plan.issuedAt),
    kind: plan.kind,
    solveMs: BigInt(Math.round(result.solveMs)),
    assetsInSafeMode,
  };
}
