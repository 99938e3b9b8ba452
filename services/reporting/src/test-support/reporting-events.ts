import type * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { unary } from '@park/testing';
import { emissionsRestatedPayload, type FigureValues } from './emissions-payloads';
import type { ReportingHarness } from './harness';

/**
 * Records the reporting harness has no stand-in for (an enterprise that is not energy-using,
 * carbon's restatements, dispatch's plans and allocations), encoded as their producers publish
 * them, and the calls the reporting tests make over and over.
 */

const v1 = park.reporting.v1;
export type { FigureValues };

/** EnterpriseRegistered with the registry's energy-using flag as given. */
export function publishEnterpriseFlagged(
  h: ReportingHarness,
  enterprise: { enterpriseId: string; parkId: string; name: string; energyUsing: boolean },
  id?: string,
): Promise<string> {
  return h.publish(
    h.topics.registry,
    enterprise.enterpriseId,
    'park.metering.v1.EnterpriseRegistered',
    park.metering.v1.EnterpriseRegistered.encode({
      enterprise: {
        ...enterprise,
        creditCode: '91210106MA0Y5K7R5J',
        industryCode: 'C3120',
        exporter: false,
        keyEnergyConsumingUnit: false,
      },
    }).finish(),
    id,
  );
}

/** carbon's EmissionsRestated: per hour the figures before, after, and the change consumers add. */
export function publishRestatement(
  h: ReportingHarness,
  enterpriseId: string,
  hours: {
    hourStart: string;
    before: FigureValues;
    after: FigureValues;
    change: FigureValues;
    internal?: FigureValues;
  }[],
  id?: string,
): Promise<string> {
  return h.publish(
    h.topics.emissions,
    enterpriseId,
    'park.carbon.v1.EmissionsRestated',
    emissionsRestatedPayload(enterpriseId, hours),
    id,
  );
}

export interface PlannedInterval {
  start: string;
  importKw: number;
  emissionsKg: number;
  renewableShare: number;
  /** The load planned for; the import when omitted. */
  loadKw?: number;
  batteries?: { batteryId: string; chargeKw: number; dischargeKw: number; socKwh: number }[];
}

/** dispatch's PlanIssued (day-ahead or intraday). */
export function publishPlan(
  h: ReportingHarness,
  plan: {
    planId: string;
    parkId: string;
    day: string;
    issuedAt: string;
    kind: 'day_ahead' | 'intraday';
    intervals: PlannedInterval[];
    violations?: {
      name: string;
      constraint: string;
      interval: number;
      assetId: string;
      sizeKwh: number;
    }[];
    notes?: string[];
  },
  id?: string,
): Promise<string> {
  return h.publish(
    h.topics.plans,
    plan.parkId,
    'park.dispatch.v1.PlanIssued',
    park.dispatch.v1.PlanIssued.encode(
      park.dispatch.v1.PlanIssued.fromPartial({
        plan: {
          planId: plan.planId,
          parkId: plan.parkId,
          day: plan.day,
          status: 'optimal',
          kind: plan.kind,
          issuedAt: new Date(plan.issuedAt),
          intervals: plan.intervals.map((interval) => ({
            ...interval,
            start: new Date(interval.start),
            exportKw: 0,
            loadKw: interval.loadKw ?? interval.importKw,
          })),
          violations: plan.violations ?? [],
          notes: plan.notes ?? [],
        },
      }),
    ).finish(),
    id,
  );
}

/** dispatch's GreenPowerAllocated: one enterprise's share of a direct line in an interval. */
export function publishAllocation(
  h: ReportingHarness,
  allocation: {
    parkId: string;
    lineId: string;
    enterpriseId: string;
    intervalStart: string;
    allocatedKwh: string;
    lineMeteredKwh: string;
    lineExportedKwh: string;
    revision: number;
  },
  id?: string,
): Promise<string> {
  return h.publish(
    h.topics.allocations,
    allocation.lineId,
    'park.dispatch.v1.GreenPowerAllocated',
    park.dispatch.v1.GreenPowerAllocated.encode({
      parkId: allocation.parkId,
      lineId: allocation.lineId,
      generatorId: `gen-${allocation.lineId}`,
      enterpriseId: allocation.enterpriseId,
      meterId: '',
      intervalStart: new Date(allocation.intervalStart),
      intervalMinutes: 15,
      allocatedKwh: { value: allocation.allocatedKwh },
      lineMeteredKwh: { value: allocation.lineMeteredKwh },
      revision: BigInt(allocation.revision),
      lineExportedKwh: { value: allocation.lineExportedKwh },
    }).finish(),
    id,
  );
}

export const GRANULARITY = {
  day: v1.Granularity.GRANULARITY_DAY,
  month: v1.Granularity.GRANULARITY_MONTH,
  year: v1.Granularity.GRANULARITY_YEAR,
} as const;

export interface KpiView {
  value?: string;
  unit: string;
  target?: string;
  comparison: string;
  status: 'met' | 'not_met' | 'no_data' | 'none';
}

const STATUS_NAME: Record<number, KpiView['status']> = {
  [v1.KpiStatus.KPI_STATUS_MET]: 'met',
  [v1.KpiStatus.KPI_STATUS_NOT_MET]: 'not_met',
  [v1.KpiStatus.KPI_STATUS_NO_DATA]: 'no_data',
  [v1.KpiStatus.KPI_STATUS_UNSPECIFIED]: 'none',
};

/** GetParkKpis, as the raw response. */
export function getParkKpis(
  h: ReportingHarness,
  md: grpc.Metadata,
  parkId: string,
  granularity: keyof typeof GRANULARITY,
  period: string,
): Promise<park.reporting.v1.GetParkKpisResponse> {
  return unary<park.reporting.v1.GetParkKpisResponse>((done) =>
    h.client.getParkKpis({ parkId, granularity: GRANULARITY[granularity], period }, md, done),
  );
}

/** The response's KPIs by name, in the response's order. */
export function kpiTable(response: park.reporting.v1.GetParkKpisResponse): Record<string, KpiView> {
  return Object.fromEntries(
    response.kpis.map((kpi) => [
      kpi.name,
      {
        ...(kpi.value ? { value: kpi.value.value } : {}),
        unit: kpi.unit,
        ...(kpi.target ? { target: kpi.target.value } : {}),
        comparison: kpi.comparison,
        status: STATUS_NAME[kpi.status] ?? 'none',
      },
    ]),
  );
}

export interface ExportedFile {
  contentType: string;
  fileName: string;
  bytes: Buffer;
}

/** ExportReport's stream, gathered: the first message's content type and name, all chunks. */
export function exportReport(
  h: ReportingHarness,
  md: grpc.Metadata,
  request: Partial<park.reporting.v1.ExportReportRequest>,
): Promise<ExportedFile> {
  return new Promise((resolve, reject) => {
    const call = h.client.exportReport(
      v1.ExportReportRequest.fromPartial({ month: '', toMonth: '', subjectId: '', ...request }),
      md,
    );
    const chunks: Buffer[] = [];
    let contentType = '';
    let fileName = '';
    call.on('data', (message: park.reporting.v1.ExportReportResponse) => {
      if (chunks.length === 0) {
        contentType = message.contentType;
        fileName = message.fileName;
      }
      chunks.push(Buffer.from(message.chunk));
    });
    call.on('error', reject);
    call.on('end', () => resolve({ contentType, fileName, bytes: Buffer.concat(chunks) }));
  });
}

export const KIND = {
  statement: v1.ReportKind.REPORT_KIND_ENTERPRISE_STATEMENT,
  park: v1.ReportKind.REPORT_KIND_PARK_REPORT,
  cbam: v1.ReportKind.REPORT_KIND_CBAM,
} as const;

export const FORMAT = {
  csv: v1.ReportFormat.REPORT_FORMAT_CSV,
  pdf: v1.ReportFormat.REPORT_FORMAT_PDF,
  json: v1.ReportFormat.REPORT_FORMAT_JSON,
} as const;

/** An HTTP download with a bearer token taken from gRPC metadata (or none). */
export async function download(
  h: ReportingHarness,
  path: string,
  md?: grpc.Metadata,
): Promise<{ status: number; contentType: string; bytes: Buffer }> {
  const authorization = md?.get('authorization')[0];
  const response = await fetch(`${h.httpUrl}${path}`, {
    headers: authorization ? { authorization: String(authorization) } : {},
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

/** dispatch's SetpointIssued, or SetpointExpired with the safe mode the asset fell back to. */
export function publishSetpoint(
  h: ReportingHarness,
  setpoint: {
    setpointId: string;
    assetId: string;
    planId: string;
    powerKw: number;
    validFrom: string;
    validUntil: string;
  },
  expiredInto?: string,
): Promise<string> {
  const message = {
    ...setpoint,
    validFrom: new Date(setpoint.validFrom),
    validUntil: new Date(setpoint.validUntil),
    status: expiredInto
      ? park.dispatch.v1.SetpointStatus.SETPOINT_STATUS_EXPIRED
      : park.dispatch.v1.SetpointStatus.SETPOINT_STATUS_ISSUED,
    acknowledgedAt: undefined,
  };
  return expiredInto
    ? h.publish(
        h.topics.setpoints,
        setpoint.assetId,
        'park.dispatch.v1.SetpointExpired',
        park.dispatch.v1.SetpointExpired.encode({
          setpoint: message,
          safeMode: expiredInto,
        }).finish(),
      )
    : h.publish(
        h.topics.setpoints,
        setpoint.assetId,
        'park.dispatch.v1.SetpointIssued',
        park.dispatch.v1.SetpointIssued.encode({ setpoint: message }).finish(),
      );
}

/** An EMS's SetpointAcknowledged on the acknowledgement topic. */
export function publishAcknowledgement(
  h: ReportingHarness,
  ack: { setpointId: string; assetId: string; acknowledgedAt: string },
): Promise<string> {
  return h.publish(
    h.topics.acks,
    ack.assetId,
    'park.dispatch.v1.SetpointAcknowledged',
    park.dispatch.v1.SetpointAcknowledged.encode({
      ...ack,
      acknowledgedAt: new Date(ack.acknowledgedAt),
    }).finish(),
  );
}
