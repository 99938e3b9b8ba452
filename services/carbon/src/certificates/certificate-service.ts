import { Dec, decimalText, startOfLocalDayAfter, zonedInstant } from '@park/domain-primitives';
import { StreamWriter, type EventStore, type Queryable } from '@park/eventstore';
import { PreconditionError } from '@park/service-kit/errors';
import type { PoolClient } from 'pg';
import { zeroFigures } from '../accounting';
import type { Posting } from '../accounting/model';
import { requireEnterprisePark, RegistryNotYetKnownError } from '../directory/directory';
import type { FactorCatalogCache } from '../factors/catalog-store';
import { factorLookup } from '../factors';
import { bookLines, closedMonths, monthOf } from '../ledger/ledger-store';
import { isLocalDay } from './calendar';
import {
  certificateBookDecider,
  certificatesStreamId,
  decide,
  refuseSerialsHeldElsewhere,
  type CertificateBook,
  type CertificateCommand,
  type CertificateEntry,
  type CertificateEvent,
  type CertificatesImported,
  type CertificatesRetired,
  type RetirementPeriod,
  type VintageRules,
} from './certificate-book';

async function projectCertificates(
  db: Queryable,
  events: { type: string; data: unknown }[],
): Promise<void> {
  for (const { type, data } of events) {
    if (type === 'CertificatesImported') {
      const event = data as Omit<CertificatesImported, 'type'>;
      await db.query(
        `INSERT INTO certificates (serial, enterprise_id, vintage, generator_id, mwh)
         SELECT c.serial, $1, c.vintage, c."generatorId", c.mwh
         FROM jsonb_to_recordset($2::jsonb) AS c(serial text, vintage text, "generatorId" text, mwh numeric)`,
        [event.enterpriseId, JSON.stringify(event.certificates)],
      );
    } else if (type === 'CertificatesRetired') {
      const event = data as Omit<CertificatesRetired, 'type'>;
      await db.query(
        'UPDATE certificates SET retired_from = $2, retired_to = $3 WHERE serial = ANY($1::text[])',
        [event.serials, event.period.from, event.period.to],
      );
    }
  }
}

/** [from, to) instants of park-local days, both inclusive. */
function periodInstants(period: RetirementPeriod, timeZone: string): { from: string; to: string } {
  const [fy, fm, fd] = period.from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = period.to.split('-').map(Number) as [number, number, number];
  const from = zonedInstant({ year: fy, month: fm, day: fd }, timeZone);
  const toDay = zonedInstant({ year: ty, month: tm, day: td }, timeZone);
  return {
    from: new Date(from).toISOString(),
    to: new Date(startOfLocalDayAfter(toDay, 1, timeZone)).toISOString(),
  };
}

export class CertificateService {
  private readonly writer: StreamWriter<CertificateCommand, CertificateEvent, CertificateBook>;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Queryable,
    private readonly catalog: FactorCatalogCache,
    private readonly rules: VintageRules,
  ) {
    this.writer = new StreamWriter(store, certificateBookDecider, projectCertificates);
  }

  async import(
    enterpriseId: string,
    certificates: CertificateEntry[],
    importedBy: string,
    now: Date = new Date(),
  ): Promise<{ imported: number; mwh: string }> {
    const command = {
      type: 'ImportCertificates' as const,
      enterpriseId,
      certificates,
      importedBy,
      importedAt: now.toISOString(),
    };
    const { rows } = await this.pool.query<{ serial: string }>(
      'SELECT serial FROM certificates WHERE serial = ANY($1::text[]) AND enterprise_id <> $2',
      [certificates.map((entry) => entry.serial?.trim?.() ?? ''), enterpriseId],
    );
    refuseSerialsHeldElsewhere(
      command,
      rows.map((row) => row.serial),
    );
    const outcome = await this.writer.handle(certificatesStreamId(enterpriseId), command);
    const imported = outcome.events.flatMap((event) =>
      event.type === 'CertificatesImported' ? event.certificates : [],
    );
    return {
      imported: imported.length,
      mwh: decimalText(imported.reduce((sum, entry) => sum.plus(entry.mwh), new Dec(0))),
    };
  }

  /**
   * Retires serials for a period, checked against the enterprise's grid electricity booked in
   * it, and books their coverage in the same transaction: the covered kWh leave the residual
   * factor (market-based Scope 2 falls by kWh x residual) and count as renewable electricity.
   */
  async retire(
    enterpriseId: string,
    serials: string[],
    period: RetirementPeriod,
    retiredBy: string,
    now: Date = new Date(),
  ): Promise<{ retiredMwh: string; gridKwh: string }> {
    let park;
    try {
      park = (await requireEnterprisePark(this.pool, enterpriseId)).park;
    } catch (error) {
      if (error instanceof RegistryNotYetKnownError) {
        throw new PreconditionError(`enterprise ${enterpriseId} has no accounted energy yet`);
      }
      throw error;
    }
    let gridKwh = '0';
    const outcome = await this.writer.write(
      certificatesStreamId(enterpriseId),
      async (book, tx) => {
        // An invalid period is refused by the decider; the grid sum needs valid days.
        const instants =
          isLocalDay(period?.from) && isLocalDay(period?.to)
            ? periodInstants(period, park.timeZone)
            : undefined;
        if (instants) gridKwh = await this.gridKwh(tx, enterpriseId, instants);
        const events = decide(
          {
            type: 'RetireCertificates',
            enterpriseId,
            serials,
            period,
            gridKwhInPeriod: gridKwh,
            retiredBy,
            retiredAt: now.toISOString(),
            rules: this.rules,
          },
          book,
        );
        for (const event of events) {
          if (event.type === 'CertificatesRetired' && instants) {
            await this.bookCoverage(tx, event, instants.from, park);
          }
        }
        return { events, result: undefined };
      },
    );
    const retired = outcome.events.find((event) => event.type === 'CertificatesRetired');
    return { retiredMwh: retired?.type === 'CertificatesRetired' ? retired.mwh : '0', gridKwh };
  }

  private async gridKwh(
    tx: Queryable,
    enterpriseId: string,
    instants: { from: string; to: string },
  ): Promise<string> {
    const { rows } = await tx.query<{ kwh: string }>(
      `SELECT coalesce(sum(grid_kwh), 0)::text AS kwh FROM ledger_lines
       WHERE enterprise_id = $1 AND interval_start >= $2 AND interval_start < $3`,
      [enterpriseId, instants.from, instants.to],
    );
    return decimalText(new Dec(rows[0]!.kwh));
  }

  private async bookCoverage(
    tx: PoolClient,
    event: CertificatesRetired,
    periodStart: string,
    park: { parkId: string; timeZone: string },
  ): Promise<void> {
    const sets = await this.catalog.current(tx);
    const residual = factorLookup(sets)('residual:national', periodStart);
    const kwh = new Dec(event.mwh).times(1000);
    const posting: Posting = {
      meterId: `certificates:${event.period.from}..${event.period.to}`,
      enterpriseId: event.enterpriseId,
      intervalStart: periodStart,
      commodity: 'electricity',
      role: 'grid_import',
      category: 'grid_electricity',
      quantity: decimalText(kwh),
      unit: 'kWh',
      quality: 'measured',
      figures: {
        ...zeroFigures(),
        renewableKwh: decimalText(kwh),
        scope2MarketKgCo2e: decimalText(kwh.times(residual.value).neg()),
      },
      factors: [residual],
      basis: 'reading',
    };
    const closed = await closedMonths(tx, park.parkId);
    await bookLines(this.store, tx, {
      enterpriseId: event.enterpriseId,
      parkId: park.parkId,
      timeZone: park.timeZone,
      cause: 'certificates',
      source: `certificates:${event.serials.join(',')}`,
      lines: [
        {
          kind: 'certificate_coverage',
          posting,
          priorPeriod: closed.has(monthOf(periodStart, park.timeZone)),
          certificateSerials: event.serials,
        },
      ],
    });
  }
}
