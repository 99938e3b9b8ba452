import { park } from '@park/contracts';
import { Dec, decimalText, Violations } from '@park/domain-primitives';
import {
  assertOwnEnterprise,
  defineGuardedService,
  type CallContext,
  type GrpcService,
  type ServiceHandlers,
} from '@park/service-kit';
import { NotFoundError, PermissionDeniedError, ValidationError } from '@park/service-kit/errors';
import type { Pool } from 'pg';
import type { FactorRef, PostingFigures } from '../accounting/model';
import { classifyCnCode } from '../cbam/annex-one';
import type { CbamService } from '../cbam/cbam-service';
import type { CertificateService } from '../certificates/certificate-service';
import { enterpriseFacts } from '../directory/directory';
import type { FactorCatalogService, PublishedFactorSet } from '../factors/catalog-store';
import { listFactorSets } from '../factors/catalog-store';
import type { GeneratorService } from '../generators/generator-service';
import type { GeneratorKind } from '../generators/generator';
import { figuresToProto } from '../integration/emissions';
import { enterpriseFootprint, ledgerEntries, parkBalance, type Period } from '../ledger/footprint';
import type { Restatements } from '../ledger/restatement';
import type { LedgerLineKind } from '../ledger/ledger';
import type { PeriodCloser } from '../periods/period-close';
import { CARBON_ACCESS } from './access';

const v1 = park.carbon.v1;
type Definition = typeof v1.CarbonServiceService;

export interface CarbonGrpcDeps {
  pool: Pool;
  catalog: FactorCatalogService;
  restatements: Restatements;
  generators: GeneratorService;
  certificates: CertificateService;
  cbam: CbamService;
  periods: PeriodCloser;
  clock?: () => Date;
}

const DEFAULT_PAGE = 500;
const MAX_PAGE = 5_000;

const decimal = (value: string): park.common.v1.Decimal => ({ value: decimalText(new Dec(value)) });
const optionalDecimal = (value: string | undefined | null) =>
  value === undefined || value === null ? undefined : decimal(value);

function actor(ctx: CallContext): string {
  return `${ctx.principal.role}:${ctx.principal.subject}`;
}

function periodFrom(interval: park.common.v1.TimeInterval | undefined, field = 'period'): Period {
  const v = new Violations();
  if (!interval?.start) v.add(`${field}.start`, 'is required');
  if (!interval?.end) v.add(`${field}.end`, 'is required');
  if (interval?.start && interval.end && interval.start >= interval.end) {
    v.add(`${field}.end`, 'must be after period.start');
  }
  v.throwIfAny();
  return { from: interval!.start!.toISOString(), to: interval!.end!.toISOString() };
}

function required(field: string, value: string | undefined): string {
  const text = value?.trim() ?? '';
  if (text === '') throw ValidationError.field(field, 'is required');
  return text;
}

function factorSetToProto(set: PublishedFactorSet): park.carbon.v1.FactorSet {
  return {
    setId: set.setId,
    version: set.version,
    publisher: set.publisher,
    document: set.document,
    year: set.year ?? 0,
    validFrom: new Date(set.validFrom),
    validTo: set.validTo ? new Date(set.validTo) : undefined,
    factors: set.factors.map((factor) => ({
      key: factor.key,
      value: { value: factor.value },
      unit: factor.unit,
      derivation: factor.derivation ?? '',
    })),
    publishedAt: new Date(set.publishedAt),
    publishedBy: set.publishedBy,
    restatementStatus:
      set.restatementStatus === 'running'
        ? v1.RestatementStatus.RESTATEMENT_STATUS_RUNNING
        : v1.RestatementStatus.RESTATEMENT_STATUS_DONE,
    restatedIntervals: BigInt(set.restatedIntervals),
  };
}

function factorRefToProto(ref: FactorRef): park.carbon.v1.FactorRef {
  return {
    key: ref.key,
    setId: ref.setId,
    version: ref.version,
    value: { value: ref.value },
    unit: ref.unit,
    fallback: ref.fallback,
  };
}

const LINE_KIND: Record<string, park.carbon.v1.LedgerEntryKind> = {
  posting: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
  reversal: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSAL,
  certificate_coverage: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE,
};

/** The request's kind filter: unspecified is every kind. */
const LEDGER_LINE_KIND: Record<number, LedgerLineKind | undefined> = Object.fromEntries(
  Object.entries(LINE_KIND).map(([line, kind]) => [kind, line as LedgerLineKind]),
);

const figures = (value: PostingFigures) => figuresToProto(value);

/** The carbon service's gRPC API, every handler behind its rule in CARBON_ACCESS. */
export function carbonGrpcService(deps: CarbonGrpcDeps): GrpcService {
  const clock = deps.clock ?? (() => new Date());

  async function ownEnterprise(ctx: CallContext, enterpriseId: string): Promise<void> {
    assertOwnEnterprise(ctx.principal, enterpriseId);
  }

  /**
   * The enterprise a process or installation belongs to. An enterprise token learns nothing
   * about other enterprises' ids: an unknown one is as "not yours" as another's.
   */
  async function ownerFor(ctx: CallContext, what: string, lookup: Promise<string>) {
    const enterpriseId = await lookup.catch((error: unknown) => {
      if (ctx.principal.role === 'enterprise' && error instanceof NotFoundError) {
        throw new PermissionDeniedError(`${what} is not yours`);
      }
      throw error;
    });
    await ownEnterprise(ctx, enterpriseId);
    return enterpriseId;
  }

  /**
   * Another enterprise's installation or meters in a process: an enterprise token is refused
   * (that would reach another enterprise's data), other callers get the field that is wrong.
   */
  function refuseForeign(ctx: CallContext, field: string, problem: string): never {
    if (ctx.principal.role === 'enterprise') throw new PermissionDeniedError(problem);
    throw ValidationError.field(field, problem);
  }

  const handlers: ServiceHandlers<Definition> = {
    async publishFactorSet(request, ctx) {
      const set = request.set;
      if (!set) throw ValidationError.field('set', 'is required');
      const published = await deps.catalog.publish(
        {
          setId: set.setId,
          publisher: set.publisher,
          document: set.document,
          year: set.year === 0 ? undefined : set.year,
          validFrom: set.validFrom?.toISOString() ?? '',
          validTo: set.validTo?.toISOString(),
          factors: set.factors.map((factor) => ({
            key: factor.key,
            value: factor.value?.value ?? '',
            unit: factor.unit,
            derivation: factor.derivation || undefined,
          })),
        },
        actor(ctx),
        clock(),
      );
      if (published) {
        // Runs on in the background; ListFactorSets shows its progress.
        void deps.restatements
          .restate(published.set.setId, published.set.version)
          .catch(() => undefined);
      }
      const latest = (await listFactorSets(deps.pool, false)).find(
        (candidate) => candidate.setId === set.setId,
      );
      if (!latest) throw new NotFoundError(`factor set ${set.setId} is not published`);
      return { set: factorSetToProto(latest), published: published !== undefined };
    },

    async listFactorSets(request) {
      const sets = await listFactorSets(deps.pool, request.allVersions);
      return { sets: sets.map(factorSetToProto) };
    },

    async registerGenerator(request, ctx) {
      const generator = request.generator;
      if (!generator) throw ValidationError.field('generator', 'is required');
      const status =
        generator.attributeStatus === v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED
          ? 'retained'
          : generator.attributeStatus === v1.AttributeStatus.ATTRIBUTE_STATUS_SOLD
            ? 'sold'
            : undefined;
      if (!status) {
        throw ValidationError.field('generator.attribute_status', 'must be RETAINED or SOLD');
      }
      const registered = await deps.generators.register(
        {
          generatorId: generator.generatorId,
          name: generator.name,
          kind: generator.kind as GeneratorKind,
          capacityKw: generator.capacityKw?.value || undefined,
          attributeStatus: status,
        },
        actor(ctx),
      );
      return {
        generator: {
          generatorId: registered.generatorId,
          name: registered.name,
          kind: registered.kind,
          capacityKw: optionalDecimal(registered.capacityKw),
          attributeStatus:
            registered.attributeStatus === 'retained'
              ? v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED
              : v1.AttributeStatus.ATTRIBUTE_STATUS_SOLD,
        },
      };
    },

    async registerProcess(request, ctx) {
      const process = request.process;
      if (!process) throw ValidationError.field('process', 'is required');
      await ownEnterprise(ctx, process.enterpriseId);
      if (!(await enterpriseFacts(deps.pool, process.enterpriseId))) {
        throw new NotFoundError(`enterprise ${process.enterpriseId} is not in the registry`);
      }
      // A process stays with its enterprise, one enterprise per installation, and only its own
      // meters: GetCbamData reads the installation's energy and goods as that enterprise's.
      const processOwner = await deps.cbam
        .processEnterprise(process.processId)
        .catch((error: unknown) => {
          if (error instanceof NotFoundError) return undefined;
          throw error;
        });
      if (processOwner !== undefined && processOwner !== process.enterpriseId) {
        refuseForeign(
          ctx,
          'process.enterprise_id',
          `process ${process.processId} belongs to another enterprise`,
        );
      }
      const owner = await deps.cbam.installationOwner(process.installationId);
      if (owner !== undefined && owner !== process.enterpriseId) {
        refuseForeign(
          ctx,
          'process.installation_id',
          `installation ${process.installationId} belongs to another enterprise`,
        );
      }
      const foreign = await deps.cbam.foreignMeters(process.enterpriseId, process.meterIds);
      if (foreign.length > 0) {
        refuseForeign(
          ctx,
          'process.meter_ids',
          `meters ${foreign.join(', ')} belong to another enterprise`,
        );
      }
      const registered = await deps.cbam.registerProcess({
        processId: process.processId,
        installationId: process.installationId,
        enterpriseId: process.enterpriseId,
        name: process.name,
        meterIds: process.meterIds,
      });
      return { process: registered };
    },

    async recordProduction(request, ctx) {
      const processId = required('process_id', request.processId);
      await ownerFor(ctx, `process ${processId}`, deps.cbam.processEnterprise(processId));
      await deps.cbam.execute({
        type: 'RecordProduction',
        processId,
        month: request.month,
        cnCode: request.cnCode,
        netMassTonnes: request.netMassTonnes?.value ?? '',
        route: request.route,
        nonCbamOutput: request.nonCbamOutput,
      });
      return {
        sector: request.nonCbamOutput ? '' : (classifyCnCode(request.cnCode)?.sector ?? ''),
      };
    },

    async recordPrecursor(request, ctx) {
      const processId = required('process_id', request.processId);
      await ownerFor(ctx, `process ${processId}`, deps.cbam.processEnterprise(processId));
      await deps.cbam.execute({
        type: 'RecordPrecursor',
        processId,
        month: request.month,
        cnCode: request.cnCode,
        consumedTonnes: request.consumedTonnes?.value ?? '',
        directSee: request.directSee?.value ?? '',
        indirectSee: request.indirectSee?.value ?? '',
        origin: request.origin as 'own' | 'supplier',
        supplier: request.supplier,
      });
      return {};
    },

    async closePeriod(request, ctx) {
      const parkId = required('park_id', request.parkId);
      const outcome = await deps.periods.close(parkId, request.month, actor(ctx), clock());
      return { enterprises: outcome.enterprises };
    },

    async getEnterpriseFootprint(request, ctx) {
      const enterpriseId = required('enterprise_id', request.enterpriseId);
      await ownEnterprise(ctx, enterpriseId);
      const period = periodFrom(request.period);
      const footprint = await enterpriseFootprint(deps.pool, enterpriseId, period);
      return {
        footprint: {
          enterpriseId,
          period: request.period,
          figures: figures(footprint.figures),
          energy: footprint.energy.map((entry) => ({
            commodity: entry.commodity,
            quantity: decimal(entry.quantity),
            unit: entry.unit,
            energyKgce: decimal(entry.energyKgce),
          })),
          scope1ByFuel: footprint.scope1ByFuel.map((fuel) => ({
            fuel: fuel.fuel,
            kgco2e: decimal(fuel.kgCo2e),
          })),
          energyTce: decimal(footprint.energyTce),
          certificateKwh: decimal(footprint.certificateKwh),
          scope2MarketKgco2e: decimal(footprint.scope2MarketKgCo2e),
          scope2LocationKgco2e: decimal(footprint.scope2LocationKgCo2e),
          scope1Kgco2e: decimal(footprint.scope1KgCo2e),
          renewableShare: optionalDecimal(footprint.renewableShare),
          cfeScore: optionalDecimal(footprint.cfeScore),
          priorPeriodAdjustments: figures(footprint.priorPeriodAdjustments),
          closed: footprint.closed,
        },
      };
    },

    async getLedgerEntries(request, ctx) {
      const enterpriseId = required('enterprise_id', request.enterpriseId);
      await ownEnterprise(ctx, enterpriseId);
      const period = periodFrom(request.period);
      const requested = request.page?.pageSize ?? 0;
      if (requested < 0) throw ValidationError.field('page.page_size', 'must not be negative');
      const page = await ledgerEntries(deps.pool, {
        enterpriseId,
        period,
        meterId: request.meterId || undefined,
        kind: LEDGER_LINE_KIND[request.kind],
        pageSize: Math.min(requested || DEFAULT_PAGE, MAX_PAGE),
        after: request.page?.pageToken || undefined,
      }).catch((error: unknown) => {
        if (error instanceof SyntaxError) {
          throw ValidationError.field('page.page_token', 'is not a token this service issued');
        }
        throw error;
      });
      return {
        entries: page.entries.map((entry) => ({
          entryId: entry.entryId,
          kind: LINE_KIND[entry.kind] ?? v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
          cause: entry.cause,
          priorPeriodAdjustment: entry.priorPeriod,
          meterId: entry.meterId ?? '',
          intervalStart: new Date(entry.intervalStart),
          category: entry.category,
          quantity: decimal(entry.quantity),
          unit: entry.unit,
          quality: entry.quality ?? '',
          figures: figures(entry.figures),
          factors: entry.factors.map(factorRefToProto),
          source: entry.source,
          recordedAt: new Date(entry.recordedAt),
          certificateSerials: entry.certificateSerials,
        })),
        page: { nextPageToken: page.next ?? '' },
      };
    },

    async getParkBalance(request) {
      const parkId = required('park_id', request.parkId);
      const balance = await parkBalance(deps.pool, parkId, periodFrom(request.period));
      return {
        balance: {
          parkId,
          period: request.period,
          scope1Kgco2e: decimal(balance.scope1KgCo2e),
          scope2LocationKgco2e: decimal(balance.scope2LocationKgCo2e),
          scope2MarketKgco2e: decimal(balance.scope2MarketKgCo2e),
          energyTce: decimal(balance.energyTce),
          tco2PerTceMarket: optionalDecimal(balance.tco2PerTceMarket),
          tco2PerTceLocation: optionalDecimal(balance.tco2PerTceLocation),
          renewableShare: optionalDecimal(balance.renewableShare),
          internalTransfers: figures(balance.internalTransfers),
          enterprises: balance.enterprises,
        },
      };
    },

    async importCertificates(request, ctx) {
      const enterpriseId = required('enterprise_id', request.enterpriseId);
      await ownEnterprise(ctx, enterpriseId);
      const outcome = await deps.certificates.import(
        enterpriseId,
        request.certificates.map((certificate) => ({
          serial: certificate.serial,
          vintage: certificate.vintage,
          generatorId: certificate.generatorId,
          mwh: certificate.mwh?.value ?? '',
        })),
        actor(ctx),
        clock(),
      );
      return { imported: outcome.imported, mwh: decimal(outcome.mwh) };
    },

    async retireCertificates(request, ctx) {
      const enterpriseId = required('enterprise_id', request.enterpriseId);
      await ownEnterprise(ctx, enterpriseId);
      const outcome = await deps.certificates.retire(
        enterpriseId,
        request.serials,
        { from: request.fromDate, to: request.toDate },
        actor(ctx),
        clock(),
      );
      return { retiredMwh: decimal(outcome.retiredMwh), gridKwh: decimal(outcome.gridKwh) };
    },

    async getCbamData(request, ctx) {
      const installationId = required('installation_id', request.installationId);
      await ownerFor(
        ctx,
        `installation ${installationId}`,
        deps.cbam.installationEnterprise(installationId),
      );
      const { result, csv } = await deps.cbam.cbamData(
        installationId,
        required('from_month', request.fromMonth),
        required('to_month', request.toMonth),
      );
      return {
        data: {
          installationId,
          fromMonth: result.fromMonth,
          toMonth: result.toMonth,
          goods: result.goods.map((good) => ({
            processId: good.processId,
            cnCode: good.cnCode,
            sector: good.sector,
            route: good.route,
            netMassTonnes: decimal(good.netMassTonnes),
            directTco2e: decimal(good.directTco2e),
            indirectTco2e: decimal(good.indirectTco2e),
            precursorDirectTco2e: decimal(good.precursorDirectTco2e),
            precursorIndirectTco2e: decimal(good.precursorIndirectTco2e),
            directSee: decimal(good.directSee),
            indirectSee: decimal(good.indirectSee),
            electricityMwhPerTonne: decimal(good.electricityMwhPerTonne),
            electricityFactor: optionalDecimal(good.electricityFactor),
            electricitySources: good.electricitySources.map((source) => ({
              source: source.source,
              mwh: decimal(source.mwh),
              factor: decimal(source.factor),
              factorSource: source.factorSource,
            })),
            indirectEmissionsCount: good.indirectCounts,
            totalSee: decimal(good.totalSee),
          })),
          totalDirectTco2e: decimal(result.totals.directTco2e),
          totalIndirectTco2e: decimal(result.totals.indirectTco2e),
          totalMassTonnes: decimal(result.totals.massTonnes),
        },
        csv: Buffer.from(csv, 'utf8'),
      };
    },
  };

  return defineGuardedService(v1.CarbonServiceService, CARBON_ACCESS, handlers);
}
