import { park } from '@park/contracts';
import {
  assertOwnEnterprise,
  defineGuardedService,
  type GrpcService,
  type ServiceHandlers,
} from '@park/service-kit';
import { ValidationError } from '@park/service-kit/errors';
import type { ReportingQueries } from '../kpis/reporting-queries';
import type { Granularity } from '../kpis/periods';
import type { ProjectionManager, ProjectionStatus } from '../projections/manager';
import { REPORTING_ACCESS } from './access';
import type { ReportExporter, ReportFormat, ReportKind } from './reports';

const v1 = park.reporting.v1;
type Definition = typeof v1.ReportingServiceService;

export interface ReportingGrpcDeps {
  queries: ReportingQueries;
  exporter: ReportExporter;
  projections: ProjectionManager;
  clock?: () => Date;
}

const CHUNK = 64 * 1024;
const dec = (value: string | undefined) => (value === undefined ? undefined : { value });

const GRANULARITY: Record<number, Granularity> = {
  [v1.Granularity.GRANULARITY_DAY]: 'day',
  [v1.Granularity.GRANULARITY_MONTH]: 'month',
  [v1.Granularity.GRANULARITY_YEAR]: 'year',
};
const KIND: Record<number, ReportKind> = {
  [v1.ReportKind.REPORT_KIND_ENTERPRISE_STATEMENT]: 'enterprise_statement',
  [v1.ReportKind.REPORT_KIND_PARK_REPORT]: 'park_report',
  [v1.ReportKind.REPORT_KIND_CBAM]: 'cbam',
};
const FORMAT: Record<number, ReportFormat> = {
  [v1.ReportFormat.REPORT_FORMAT_CSV]: 'csv',
  [v1.ReportFormat.REPORT_FORMAT_PDF]: 'pdf',
  [v1.ReportFormat.REPORT_FORMAT_JSON]: 'json',
};
const STATUS = {
  met: v1.KpiStatus.KPI_STATUS_MET,
  not_met: v1.KpiStatus.KPI_STATUS_NOT_MET,
  no_data: v1.KpiStatus.KPI_STATUS_NO_DATA,
  none: v1.KpiStatus.KPI_STATUS_UNSPECIFIED,
} as const;

function projectionToProto(status: ProjectionStatus): park.reporting.v1.Projection {
  return {
    name: status.name,
    activeVersion: status.activeVersion,
    buildingVersion: status.buildingVersion,
    buildingApplied: BigInt(status.buildingApplied),
    buildingTarget: BigInt(status.buildingTarget),
    switchedAt: status.switchedAt ? new Date(status.switchedAt) : undefined,
  };
}

function required(field: string, value: string): string {
  if (value.trim() === '') throw ValidationError.field(field, 'is required');
  return value.trim();
}

/** The reporting gRPC API, every handler behind its rule in REPORTING_ACCESS. */
export function reportingGrpcService(deps: ReportingGrpcDeps): GrpcService {
  const clock = deps.clock ?? (() => new Date());
  const handlers: ServiceHandlers<Definition> = {
    async getParkKpis(request) {
      const granularity = GRANULARITY[request.granularity];
      if (!granularity) throw ValidationError.field('granularity', 'must be DAY, MONTH or YEAR');
      const parkId = required('park_id', request.parkId);
      const { kpis, sizeBand } = await deps.queries.parkKpis(
        parkId,
        granularity,
        request.period,
        clock(),
      );
      return {
        parkId,
        period: request.period,
        kpis: kpis.map((kpi) => ({
          name: kpi.name,
          label: kpi.label,
          value: dec(kpi.value),
          unit: kpi.unit,
          target: dec(kpi.target),
          comparison: kpi.comparison ?? '',
          status: STATUS[kpi.status],
        })),
        sizeBand,
        scope2Method: deps.queries.scope2Method,
      };
    },
    async getEnterpriseStatement(request, ctx) {
      const enterpriseId = required('enterprise_id', request.enterpriseId);
      assertOwnEnterprise(ctx.principal, enterpriseId);
      const statement = await deps.queries.enterpriseStatement(enterpriseId, request.month);
      return {
        enterpriseId,
        enterpriseName: statement.enterpriseName,
        month: statement.month,
        rows: statement.rows.map((row) => ({
          label: row.label,
          value: row.value,
          unit: row.unit,
          target: row.target ?? '',
          status: row.status ?? '',
        })),
        daily: statement.daily.map((point) => ({
          day: point.day,
          renewableShare:
            point.renewableShare === null ? undefined : { value: String(point.renewableShare) },
        })),
      };
    },
    async listEnterpriseRanking(request, ctx) {
      const order =
        request.order === v1.RankingOrder.RANKING_ORDER_RENEWABLE_SHARE
          ? 'renewable_share'
          : 'intensity';
      const entries = await deps.queries.ranking(
        required('park_id', request.parkId),
        request.month,
        order,
      );
      const own = ctx.principal.role === 'enterprise' ? ctx.principal.enterpriseId : undefined;
      const filter = request.nameFilter.trim();
      return {
        entries: entries
          .map((entry, i) => ({ entry, rank: i + 1 }))
          .filter(
            ({ entry }) =>
              ctx.principal.role === 'enterprise' || !filter || entry.name.includes(filter),
          )
          .map(({ entry, rank }) => {
            // An enterprise sees where it stands, not who the others are.
            const visible = ctx.principal.role !== 'enterprise' || entry.enterpriseId === own;
            return {
              rank,
              enterpriseId: visible ? entry.enterpriseId : '',
              enterpriseName: visible ? entry.name : '',
              intensityTco2PerTce: dec(entry.intensity),
              renewableShare: dec(entry.renewableShare),
              energyTce: dec(entry.energyTce),
            };
          }),
      };
    },
    async getPlanVsActual(request) {
      const result = await deps.queries.planVsActual(
        required('park_id', request.parkId),
        required('day', request.day),
      );
      return {
        planId: result.planId,
        intervals: result.intervals.map((interval) => ({
          start: new Date(interval.start),
          plannedImportKwh: interval.plannedImportKwh,
          actualImportKwh: dec(interval.actualImportKwh),
          plannedEmissionsKg: interval.plannedEmissionsKg,
          actualEmissionsKg: dec(interval.actualEmissionsKg),
          plannedRenewableShare: interval.plannedRenewableShare,
          actualRenewableShare: dec(interval.actualRenewableShare),
        })),
      };
    },
    async *exportReport(request, ctx) {
      const kind = KIND[request.kind];
      if (!kind)
        throw ValidationError.field('kind', 'must be ENTERPRISE_STATEMENT, PARK_REPORT or CBAM');
      const format = FORMAT[request.format];
      if (!format) throw ValidationError.field('format', 'must be CSV, PDF or JSON');
      const authorization = String(ctx.metadata.get('authorization')[0] ?? '');
      const file = await deps.exporter.export(ctx.principal, authorization, {
        kind,
        format,
        subjectId: request.subjectId,
        month: request.month,
        toMonth: request.toMonth,
      });
      for (let at = 0; at < Math.max(1, file.bytes.length); at += CHUNK) {
        yield {
          contentType: at === 0 ? file.contentType : '',
          fileName: at === 0 ? file.fileName : '',
          chunk: file.bytes.subarray(at, at + CHUNK),
        };
      }
    },
    async rebuildProjection(request) {
      const statuses = await deps.projections.rebuild(request.name.trim() || undefined);
      return { projections: statuses.map(projectionToProto) };
    },
    async listProjections() {
      return { projections: (await deps.projections.status()).map(projectionToProto) };
    },
  };
  return defineGuardedService(v1.ReportingServiceService, REPORTING_ACCESS, handlers);
}
