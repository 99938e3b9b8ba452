import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { TokenVerifier, type Principal } from '@park/service-kit';
import { AUTH } from './harness';

/**
 * Stand-ins of the carbon and dispatch gRPC methods reporting calls, on loopback: each verifies
 * the token it is given (reporting must pass on the caller's own, never its own) and applies its
 * service's rule, and records the authorization metadata of every call.
 */

export interface StandIn {
  address: string;
  /** The authorization metadata of every call, in order. */
  received: string[];
  stop(): Promise<void>;
}

interface Method<Request> {
  /** Whether the caller may make this request (the real service's rule). */
  allow(principal: Principal, request: Request): boolean;
  answer(request: Request): unknown;
}

async function serve(
  definition: grpc.ServiceDefinition,
  methods: Record<string, Method<never>>,
): Promise<StandIn> {
  const verifier = new TokenVerifier(AUTH);
  const received: string[] = [];
  const server = new grpc.Server();
  const implementation = Object.fromEntries(
    Object.entries(methods).map(([name, method]) => [
      name,
      (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const authorization = String(call.metadata.get('authorization')[0] ?? '');
        received.push(authorization);
        verifier.verifyAuthorization(authorization).then(
          (principal) => {
            if (!method.allow(principal, call.request as never)) {
              callback({ code: grpc.status.PERMISSION_DENIED, details: 'not yours' });
              return;
            }
            try {
              callback(null, method.answer(call.request as never));
            } catch (error) {
              callback(error as grpc.ServiceError);
            }
          },
          () => callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad token' }),
        );
      },
    ]),
  );
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    received,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** Operators and services read everything; an enterprise its own data only. */
const reader = (principal: Principal, owner: string | undefined) =>
  principal.role === 'operator' ||
  principal.role === 'service' ||
  (principal.role === 'enterprise' && owner !== undefined && owner === principal.enterpriseId);

export interface CarbonStandInData {
  /** Installation id -> the enterprise it belongs to. */
  installations: Record<string, string>;
  /** An installation's CBAM data (beyond its id and months). */
  cbam?: (installationId: string) => Partial<park.carbon.v1.CbamData>;
  /** Enterprise id -> its footprint's certificate figures and certificate coverage lines. */
  certificates?: Record<
    string,
    {
      certificateKwh: string;
      renewableShare?: string;
      cfeScore?: string;
      coverage: { intervalStart: string; kwh: string; serials: string[] }[];
    }
  >;
}

/** Carbon's GetCbamData, GetEnterpriseFootprint and GetLedgerEntries (coverage lines). */
export function startCarbonStandIn(data: CarbonStandInData): Promise<StandIn> {
  const v1 = park.carbon.v1;
  const getCbamData: Method<park.carbon.v1.GetCbamDataRequest> = {
    allow: (principal, request) => reader(principal, data.installations[request.installationId]),
    answer: (request) => ({
      data: v1.CbamData.fromPartial({
        installationId: request.installationId,
        fromMonth: request.fromMonth,
        toMonth: request.toMonth,
        ...data.cbam?.(request.installationId),
      }),
      csv: Buffer.from(`installation_id\r\n${request.installationId}\r\n`),
    }),
  };
  const getEnterpriseFootprint: Method<park.carbon.v1.GetEnterpriseFootprintRequest> = {
    allow: (principal, request) => reader(principal, request.enterpriseId),
    answer: (request) => {
      const found = data.certificates?.[request.enterpriseId];
      return {
        footprint: v1.Footprint.fromPartial({
          enterpriseId: request.enterpriseId,
          period: request.period,
          certificateKwh: { value: found?.certificateKwh ?? '0' },
          ...(found?.renewableShare ? { renewableShare: { value: found.renewableShare } } : {}),
          ...(found?.cfeScore ? { cfeScore: { value: found.cfeScore } } : {}),
        }),
      };
    },
  };
  const getLedgerEntries: Method<park.carbon.v1.GetLedgerEntriesRequest> = {
    allow: (principal, request) => reader(principal, request.enterpriseId),
    answer: (request) => {
      if (request.kind !== v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE) {
        throw { code: grpc.status.UNIMPLEMENTED, details: 'the stand-in has coverage lines only' };
      }
      const lines = data.certificates?.[request.enterpriseId]?.coverage ?? [];
      return {
        entries: lines.map((line, i) =>
          v1.LedgerEntry.fromPartial({
            entryId: `coverage-${i + 1}`,
            kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE,
            cause: 'certificates',
            intervalStart: new Date(line.intervalStart),
            quantity: { value: line.kwh },
            unit: 'kWh',
            certificateSerials: line.serials,
            recordedAt: new Date(line.intervalStart),
          }),
        ),
        page: { nextPageToken: '' },
      };
    },
  };
  return serve(v1.CarbonServiceService, {
    getCbamData,
    getEnterpriseFootprint,
    getLedgerEntries,
  } as Record<string, Method<never>>);
}

/** Dispatch's GetTopology (operators, integrators and services), with the given batteries. */
export function startDispatchStandIn(
  batteries: { batteryId: string; energyKwh: string; socMeterId: string }[],
): Promise<StandIn> {
  const v1 = park.dispatch.v1;
  const getTopology: Method<park.dispatch.v1.GetTopologyRequest> = {
    allow: (principal) => ['operator', 'integrator', 'service'].includes(principal.role),
    answer: (request) => ({
      topology: v1.Topology.fromPartial({
        parkId: request.parkId,
        batteries: batteries.map((b) => ({
          batteryId: b.batteryId,
          energyKwh: { value: b.energyKwh },
          socMeterId: b.socMeterId,
        })),
      }),
    }),
  };
  return serve(v1.DispatchServiceService, { getTopology } as Record<string, Method<never>>);
}
