import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import type { CertificateCoverage } from './contract';
import type { BatteryTopology } from './queries';

/** How long the dashboard waits for another service before saying it did not answer. */
const DEADLINE_MS = 5_000;

/** A call's metadata: the caller's own bearer token, never the service's. */
function asCaller(authorization: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', authorization);
  return metadata;
}

/** Why another service's answer is missing, in words for the page. */
export function upstreamReason(service: string, error: unknown): string {
  const e = error as Partial<grpc.ServiceError>;
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return `${service} did not answer (${e.details || 'unavailable'})`;
    case grpc.status.PERMISSION_DENIED:
      return `${service} refused: ${e.details}`;
    case grpc.status.NOT_FOUND:
      return `${service} does not know it: ${e.details}`;
    default:
      return `${service} failed: ${e.details || (error instanceof Error ? error.message : String(error))}`;
  }
}

function unary<T>(invoke: (done: (error: grpc.ServiceError | null, response?: T) => void) => void) {
  return new Promise<T>((resolve, reject) =>
    invoke((error, response) => (error ? reject(error) : resolve(response!))),
  );
}

/** The certificates part of an enterprise's month, from carbon. */
export interface CertificateSource {
  (
    enterpriseId: string,
    period: { from: number; to: number },
    authorization: string,
  ): Promise<{
    certificateKwh: string;
    renewableShare?: string;
    cfeScore?: string;
    coverage: CertificateCoverage[];
  }>;
}

/**
 * Carbon's footprint (grid electricity covered by retired certificates) and its ledger's
 * certificate coverage lines (the serials retired), asked with the caller's token.
 */
export function carbonCertificateSource(
  client: park.carbon.v1.CarbonServiceClient,
): CertificateSource {
  const v1 = park.carbon.v1;
  return async (enterpriseId, period, authorization) => {
    const interval = { start: new Date(period.from), end: new Date(period.to) };
    const options = () => ({ deadline: Date.now() + DEADLINE_MS });
    const { footprint } = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
      client.getEnterpriseFootprint(
        { enterpriseId, period: interval },
        asCaller(authorization),
        options(),
        done,
      ),
    );
    const coverage: CertificateCoverage[] = [];
    let pageToken = '';
    do {
      const page = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
        client.getLedgerEntries(
          {
            enterpriseId,
            period: interval,
            page: { pageSize: 500, pageToken },
            meterId: '',
            kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE,
          },
          asCaller(authorization),
          options(),
          done,
        ),
      );
      for (const entry of page.entries) {
        coverage.push({
          entryId: entry.entryId,
          ...(entry.recordedAt ? { recordedAt: entry.recordedAt.toISOString() } : {}),
          ...(entry.intervalStart ? { intervalStart: entry.intervalStart.toISOString() } : {}),
          quantityKwh: entry.quantity?.value ?? '0',
          serials: entry.certificateSerials,
        });
      }
      pageToken = page.page?.nextPageToken ?? '';
    } while (pageToken);
    return {
      certificateKwh: footprint?.certificateKwh?.value || '0',
      ...(footprint?.renewableShare?.value
        ? { renewableShare: footprint.renewableShare.value }
        : {}),
      ...(footprint?.cfeScore?.value ? { cfeScore: footprint.cfeScore.value } : {}),
      coverage,
    };
  };
}

/** The park's batteries from dispatch's topology: energy and SOC meter. */
export type TopologySource = (parkId: string, authorization: string) => Promise<BatteryTopology[]>;

export function dispatchTopologySource(address: string): TopologySource {
  const client = new park.dispatch.v1.DispatchServiceClient(
    address,
    grpc.credentials.createInsecure(),
  );
  return async (parkId, authorization) => {
    const { topology } = await unary<park.dispatch.v1.GetTopologyResponse>((done) =>
      client.getTopology(
        { parkId },
        asCaller(authorization),
        { deadline: Date.now() + DEADLINE_MS },
        done,
      ),
    );
    return (topology?.batteries ?? []).map((battery) => ({
      batteryId: battery.batteryId,
      energyKwh: Number(battery.energyKwh?.value ?? 0),
      socMeterId: battery.socMeterId,
    }));
  };
}
