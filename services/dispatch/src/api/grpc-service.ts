import { park } from '@park/contracts';
import { defineGuardedService, type GrpcService, type ServiceHandlers } from '@park/service-kit';
import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import { planToProto } from '../integration/proto-mapping';
import { setpointToProto } from '../integration/outbound';
import type { Queryable } from '@park/eventstore';
import type { DirectLineThresholds } from '../allocation';
import { lineRatios } from '../lines/line-allocations';
import { explainInterval } from '../plans/explain';
import type { PlanService, StoredPlan } from '../plans/plan-service';
import type { SetpointService } from '../setpoints/setpoint-service';
import type { DayType, Topology } from '../topology/topology';
import type { TopologyService } from '../topology/topology-service';
import { DISPATCH_ACCESS } from './access';

const v1 = park.dispatch.v1;
type Definition = typeof v1.DispatchServiceService;

export interface DispatchGrpcDeps {
  pool: Queryable;
  thresholds?: Partial<DirectLineThresholds>;
  topologies: TopologyService;
  plans: PlanService;
  setpoints: SetpointService;
  clock?: () => Date;
}

const dec = (value: string | undefined): park.common.v1.Decimal | undefined =>
  value === undefined ? undefined : { value };
const text = (value: park.common.v1.Decimal | undefined): string => value?.value ?? '';

function required(field: string, value: string): string {
  if (value.trim() === '') throw ValidationError.field(field, 'is required');
  return value.trim();
}

const DAY_TYPES: Record<number, DayType> = {
  [v1.DayType.DAY_TYPE_WORKDAY]: 'workday',
  [v1.DayType.DAY_TYPE_WEEKEND]: 'weekend',
  [v1.DayType.DAY_TYPE_HOLIDAY]: 'holiday',
};
const DAY_TYPE_PROTO: Record<DayType, park.dispatch.v1.DayType> = {
  workday: v1.DayType.DAY_TYPE_WORKDAY,
  weekend: v1.DayType.DAY_TYPE_WEEKEND,
  holiday: v1.DayType.DAY_TYPE_HOLIDAY,
};

export function topologyToProto(topology: Topology, version: number): park.dispatch.v1.Topology {
  const byId = <T>(record: Record<string, T>) =>
    Object.keys(record)
      .sort()
      .map((id) => record[id]!);
  return {
    parkId: topology.parkId,
    plants: byId(topology.plants).map((plant) => ({
      plantId: plant.plantId,
      kind: plant.kind === 'pv' ? v1.PlantKind.PLANT_KIND_PV : v1.PlantKind.PLANT_KIND_WIND,
      capacityKw: dec(plant.capacityKw),
      latitude: dec(plant.latitude),
      longitude: dec(plant.longitude),
      derate: dec(plant.derate),
      meterId: plant.meterId ?? '',
    })),
    batteries: byId(topology.batteries).map((battery) => ({
      batteryId: battery.batteryId,
      energyKwh: dec(battery.energyKwh),
      maxChargeKw: dec(battery.maxChargeKw),
      maxDischargeKw: dec(battery.maxDischargeKw),
      chargeEfficiency: dec(battery.chargeEfficiency),
      dischargeEfficiency: dec(battery.dischargeEfficiency),
      socMinFraction: dec(battery.socMinFraction),
      socMaxFraction: dec(battery.socMaxFraction),
      degradationCnyPerMwh: dec(battery.degradationCnyPerMwh),
      socMeterId: battery.socMeterId ?? '',
      safeMode: battery.safeMode,
    })),
    flexibleLoads: byId(topology.flexibleLoads).map((load) => ({
      loadId: load.loadId,
      enterpriseId: load.enterpriseId,
      energyKwh: dec(load.energyKwh),
      windowStartMinute: load.windowStartMinute,
      windowEndMinute: load.windowEndMinute,
      maxKw: dec(load.maxKw),
    })),
    directLines: byId(topology.directLines).map((line) => ({
      lineId: line.lineId,
      plantId: line.plantId,
      capacityKw: dec(line.capacityKw),
      lineMeterId: line.lineMeterId,
      consumers: line.consumers.map((consumer) => ({
        enterpriseId: consumer.enterpriseId,
        priority: consumer.priority,
        share: dec(consumer.share),
        consumptionMeterIds: consumer.consumptionMeterIds,
      })),
      storageMeterId: line.storageMeterId ?? '',
      exportMeterId: line.exportMeterId ?? '',
    })),
    grid: topology.grid && {
      importLimitKw: dec(topology.grid.importLimitKw),
      exportLimitKw: dec(topology.grid.exportLimitKw),
    },
    tariff: topology.grid && {
      periods: topology.grid.tariff.periods.map((period) => ({
        dayType: DAY_TYPE_PROTO[period.dayType],
        fromMinute: period.fromMinute,
        toMinute: period.toMinute,
        importCnyPerKwh: dec(period.importCnyPerKwh),
      })),
      feedInCnyPerKwh: dec(topology.grid.tariff.feedInCnyPerKwh),
      holidays: topology.grid.tariff.holidays,
    },
    carbon: topology.grid && {
      cnyPerTonne: dec(topology.grid.carbon.cnyPerTonne),
      gridFactorKgPerKwh: dec(topology.grid.carbon.gridFactorKgPerKwh),
    },
    version: BigInt(version),
  };
}

/** The dispatch gRPC API, every handler behind its rule in DISPATCH_ACCESS. */
export function dispatchGrpcService(deps: DispatchGrpcDeps): GrpcService {
  const clock = deps.clock ?? (() => new Date());
  const answer = async (parkId: string) => {
    const { topology, version } = await deps.topologies.topology(parkId);
    return { topology: topologyToProto(topology, version) };
  };
  const planAnswer = async (plan: StoredPlan) => ({
    plan: planToProto(plan, await deps.setpoints.assetsInSafeMode(plan.parkId)),
  });

  const handlers: ServiceHandlers<Definition> = {
    async registerPlant(request) {
      const parkId = required('park_id', request.parkId);
      const plant = request.plant;
      if (!plant) throw ValidationError.field('plant', 'is required');
      await deps.topologies.execute({
        type: 'RegisterPlant',
        parkId,
        plant: {
          plantId: plant.plantId,
          kind:
            plant.kind === v1.PlantKind.PLANT_KIND_PV
              ? 'pv'
              : plant.kind === v1.PlantKind.PLANT_KIND_WIND
                ? 'wind'
                : ('' as unknown as 'pv'),
          capacityKw: text(plant.capacityKw),
          latitude: text(plant.latitude),
          longitude: text(plant.longitude),
          derate: text(plant.derate),
          ...(plant.meterId ? { meterId: plant.meterId } : {}),
        },
      });
      return answer(parkId);
    },
    async registerBattery(request) {
      const parkId = required('park_id', request.parkId);
      const b = request.battery;
      if (!b) throw ValidationError.field('battery', 'is required');
      await deps.topologies.execute({
        type: 'RegisterBattery',
        parkId,
        battery: {
          batteryId: b.batteryId,
          energyKwh: text(b.energyKwh),
          maxChargeKw: text(b.maxChargeKw),
          maxDischargeKw: text(b.maxDischargeKw),
          chargeEfficiency: text(b.chargeEfficiency),
          dischargeEfficiency: text(b.dischargeEfficiency),
          socMinFraction: text(b.socMinFraction),
          socMaxFraction: text(b.socMaxFraction),
          degradationCnyPerMwh: text(b.degradationCnyPerMwh),
          safeMode: (b.safeMode || 'idle') as 'idle',
          ...(b.socMeterId ? { socMeterId: b.socMeterId } : {}),
        },
      });
      return answer(parkId);
    },
    async registerFlexibleLoad(request) {
      const parkId = required('park_id', request.parkId);
      const load = request.load;
      if (!load) throw ValidationError.field('load', 'is required');
      await deps.topologies.execute({
        type: 'RegisterFlexibleLoad',
        parkId,
        load: {
          loadId: load.loadId,
          enterpriseId: load.enterpriseId,
          energyKwh: text(load.energyKwh),
          windowStartMinute: load.windowStartMinute,
          windowEndMinute: load.windowEndMinute,
          maxKw: text(load.maxKw),
        },
      });
      return answer(parkId);
    },
    async registerDirectLine(request) {
      const parkId = required('park_id', request.parkId);
      const line = request.line;
      if (!line) throw ValidationError.field('line', 'is required');
      await deps.topologies.execute({
        type: 'RegisterDirectLine',
        parkId,
        line: {
          lineId: line.lineId,
          plantId: line.plantId,
          capacityKw: text(line.capacityKw),
          lineMeterId: line.lineMeterId,
          consumers: line.consumers.map((consumer) => ({
            enterpriseId: consumer.enterpriseId,
            priority: consumer.priority,
            share: text(consumer.share),
            consumptionMeterIds: consumer.consumptionMeterIds,
          })),
          ...(line.storageMeterId ? { storageMeterId: line.storageMeterId } : {}),
          ...(line.exportMeterId ? { exportMeterId: line.exportMeterId } : {}),
        },
      });
      return answer(parkId);
    },
    async configureGrid(request) {
      const parkId = required('park_id', request.parkId);
      const location = await deps.plans.location(parkId);
      await deps.topologies.execute({
        type: 'ConfigureGrid',
        parkId,
        ...(location ? { timeZone: location.timeZone } : {}),
        grid: {
          importLimitKw: text(request.grid?.importLimitKw),
          exportLimitKw: text(request.grid?.exportLimitKw),
          tariff: {
            periods: (request.tariff?.periods ?? []).map((period) => ({
              dayType: DAY_TYPES[period.dayType] ?? ('' as DayType),
              fromMinute: period.fromMinute,
              toMinute: period.toMinute,
              importCnyPerKwh: text(period.importCnyPerKwh),
            })),
            feedInCnyPerKwh: text(request.tariff?.feedInCnyPerKwh),
            holidays: request.tariff?.holidays ?? [],
          },
          carbon: {
            cnyPerTonne: text(request.carbon?.cnyPerTonne),
            gridFactorKgPerKwh: text(request.carbon?.gridFactorKgPerKwh),
          },
        },
      });
      return answer(parkId);
    },
    async getTopology(request) {
      return answer(required('park_id', request.parkId));
    },
    async submitForecast(request) {
      const parkId = required('park_id', request.parkId);
      if (!request.start) throw ValidationError.field('start', 'is required');
      const values = request.valuesKw.map((value, i) => {
        const number = Number(value.value);
        if (value.value === '' || !Number.isFinite(number)) {
          throw ValidationError.field(`values_kw[${i}]`, 'must be a decimal number');
        }
        return number;
      });
      const intervals = await deps.plans.submitForecast(
        parkId,
        required('asset_id', request.assetId),
        request.start,
        request.intervalMinutes,
        values,
        clock(),
      );
      return { intervals };
    },
    async planDay(request) {
      const plan = await deps.plans.plan(
        required('park_id', request.parkId),
        required('day', request.day),
        {},
        clock(),
      );
      return planAnswer(plan);
    },
    async getPlan(request) {
      const parkId = request.parkId.trim();
      if (!request.planId && (!parkId || !request.day)) {
        throw ValidationError.field('plan_id', 'is required, or park_id and day');
      }
      const plan = await deps.plans.latest(parkId, request.day, request.planId || undefined);
      if (!plan)
        throw new NotFoundError(`no plan for ${request.planId || `${parkId} on ${request.day}`}`);
      return planAnswer(plan);
    },
    async getSetpoints(request) {
      const setpoints = await deps.setpoints.list(
        required('park_id', request.parkId),
        request.assetId || undefined,
      );
      return { setpoints: setpoints.map(setpointToProto) };
    },
    async acknowledgeSetpoint(request) {
      const setpoint = await deps.setpoints.acknowledge(
        required('setpoint_id', request.setpointId),
        required('asset_id', request.assetId),
        clock(),
      );
      return { setpoint: setpointToProto(setpoint) };
    },
    async getDirectLineRatios(request) {
      if (!request.from || !request.to || request.from >= request.to) {
        throw ValidationError.field('to', 'from and to are required, to after from');
      }
      const ratios = await lineRatios(
        deps.pool,
        required('park_id', request.parkId),
        required('line_id', request.lineId),
        request.from.toISOString(),
        request.to.toISOString(),
        deps.thresholds,
      );
      const check = (c: {
        ratio: string | null;
        threshold: string;
        bound: string;
        met: boolean;
      }) => ({
        ratio: c.ratio === null ? undefined : { value: c.ratio },
        threshold: { value: c.threshold },
        bound: c.bound,
        met: c.met,
      });
      return {
        lineId: ratios.lineId,
        intervals: ratios.intervals,
        availableGenerationKwh: { value: ratios.availableGenerationKwh },
        allocatedKwh: { value: ratios.allocatedKwh },
        exportedKwh: { value: ratios.exportedKwh },
        selfUse: check(ratios.selfUse),
        feedIn: check(ratios.feedIn),
        consumers: ratios.consumers.map((consumer) => ({
          enterpriseId: consumer.enterpriseId,
          suppliedKwh: { value: consumer.suppliedKwh },
          consumptionKwh: { value: consumer.consumptionKwh },
          share: check(consumer),
        })),
        met: ratios.met,
      };
    },
    async explainPlan(request) {
      const plan = await deps.plans.latest('', undefined, required('plan_id', request.planId));
      if (!plan) throw new NotFoundError(`plan ${request.planId} does not exist`);
      const { topology } = await deps.topologies.topology(plan.parkId);
      const explanation = explainInterval(plan, topology, request.interval);
      return {
        planId: plan.planId,
        interval: request.interval,
        start: new Date(explanation.start),
        importPriceCnyPerKwh: { value: String(explanation.importPrice) },
        exportPriceCnyPerKwh: { value: String(explanation.exportPrice) },
        batteries: explanation.batteries,
        binding: explanation.binding,
      };
    },
  };
  return defineGuardedService(v1.DispatchServiceService, DISPATCH_ACCESS, handlers);
}
