import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import {
  DEFAULT_VINTAGE_RULES,
  certificatesStreamId,
  coveredKwh,
  decide,
  evolve,
  initialCertificateBook,
  refuseSerialsHeldElsewhere,
  type CertificateBook,
  type CertificateCommand,
  type ImportCertificates,
  type RetireCertificates,
} from './index';

const importCommand: ImportCertificates = {
  type: 'ImportCertificates',
  enterpriseId: 'ent-1',
  certificates: [
    { serial: 'GEC-2025-0001', vintage: '2025-02', generatorId: 'pv-1', mwh: '1' },
    { serial: 'GEC-2025-0002', vintage: '2025-02', generatorId: 'pv-1', mwh: '1.0' },
    { serial: 'GEC-2024-0001', vintage: '2024-03', generatorId: 'wind-1', mwh: '2' },
    { serial: 'GEC-2024-0002', vintage: '2024-02', generatorId: 'wind-1', mwh: '1' },
    { serial: 'GEC-2025-0003', vintage: '2025-04', generatorId: 'pv-1', mwh: '1' },
  ],
  importedBy: 'alice',
  importedAt: '2025-04-02T08:00:00+08:00',
};

const march = { from: '2025-03-01', to: '2025-03-31' };

function retire(
  serials: string[],
  overrides: Partial<RetireCertificates> = {},
): RetireCertificates {
  return {
    type: 'RetireCertificates',
    enterpriseId: 'ent-1',
    serials,
    period: march,
    gridKwhInPeriod: '3000',
    retiredBy: 'bob',
    retiredAt: '2025-04-03T01:00:00Z',
    rules: DEFAULT_VINTAGE_RULES,
    ...overrides,
  };
}

function run(commands: CertificateCommand[], book = initialCertificateBook()): CertificateBook {
  return commands.reduce((state, command) => decide(command, state).reduce(evolve, state), book);
}

/** Runs the command expecting a refusal, and checks it produced no events by construction. */
function refusal(command: CertificateCommand, book: CertificateBook): unknown {
  try {
    const events = decide(command, book);
    return { unexpectedEvents: events };
  } catch (error) {
    return error;
  }
}

describe('certificate book', () => {
  const imported = run([importCommand]);

  it('names its stream after the enterprise', () => {
    expect(certificatesStreamId('ent-1')).toBe('certificates-ent-1');
  });

  it('imports certificates with canonical MWh', () => {
    const events = decide(importCommand, initialCertificateBook());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'CertificatesImported',
      enterpriseId: 'ent-1',
      importedBy: 'alice',
      importedAt: '2025-04-02T00:00:00.000Z',
    });
    expect(events[0]?.type === 'CertificatesImported' && events[0].certificates[1]).toEqual({
      serial: 'GEC-2025-0002',
      vintage: '2025-02',
      generatorId: 'pv-1',
      mwh: '1',
    });
    expect(imported.certificates['GEC-2024-0001']).toEqual({
      serial: 'GEC-2024-0001',
      vintage: '2024-03',
      generatorId: 'wind-1',
      mwh: '2',
      importedAt: '2025-04-02T00:00:00.000Z',
    });
  });

  it('names every malformed entry and a serial listed twice', () => {
    const command: ImportCertificates = {
      ...importCommand,
      certificates: [
        { serial: 'A-1', vintage: '2025-13', generatorId: 'pv-1', mwh: '0' },
        { serial: ' ', vintage: '2025-01', generatorId: '', mwh: '1e3' },
        { serial: 'A-1', vintage: '2025-01', generatorId: 'pv-1', mwh: '1' },
      ],
    };
    expect(() => decide(command, initialCertificateBook())).toThrow(
      new ValidationError([
        { field: 'certificates[0].vintage', description: 'must be a generation month "YYYY-MM"' },
        { field: 'certificates[0].mwh', description: 'must be greater than zero' },
        { field: 'certificates[1].serial', description: 'is required' },
        { field: 'certificates[1].generator_id', description: 'is required' },
        { field: 'certificates[1].mwh', description: 'must be a decimal number such as "1.5"' },
        { field: 'certificates[2].serial', description: 'GEC A-1 is listed twice' },
      ]),
    );
  });

  it('refuses a serial the enterprise already holds', () => {
    const again: ImportCertificates = {
      ...importCommand,
      certificates: [
        { serial: 'GEC-2025-0002', vintage: '2025-02', generatorId: 'pv-1', mwh: '1' },
        { serial: 'GEC-NEW', vintage: '2025-02', generatorId: 'pv-1', mwh: '1' },
      ],
    };
    expect(refusal(again, imported)).toEqual(
      new PreconditionError('GEC GEC-2025-0002 is already held by enterprise ent-1'),
    );
  });

  it('lets the caller refuse serials another enterprise holds', () => {
    expect(() => refuseSerialsHeldElsewhere(importCommand, ['X', 'GEC-2024-0002'])).toThrow(
      new PreconditionError('GEC GEC-2024-0002 is already held by another enterprise'),
    );
    expect(() => refuseSerialsHeldElsewhere(importCommand, new Set(['X']))).not.toThrow();
  });

  it('does not take a prototype property for a held certificate', () => {
    expect(refusal(retire(['constructor']), imported)).toEqual(
      new PreconditionError('GEC constructor is not held by enterprise ent-1'),
    );
  });

  it('retires certificates for a period and records when', () => {
    const events = decide(retire(['GEC-2025-0001', 'GEC-2024-0001']), imported);
    // 1 MWh + 2 MWh = 3 MWh = 3000 kWh, exactly the grid electricity: allowed.
    expect(events).toEqual([
      {
        type: 'CertificatesRetired',
        enterpriseId: 'ent-1',
        serials: ['GEC-2025-0001', 'GEC-2024-0001'],
        period: march,
        mwh: '3',
        gridKwhInPeriod: '3000',
        retiredBy: 'bob',
        retiredAt: '2025-04-03T01:00:00.000Z',
      },
    ]);
    const book = events.reduce(evolve, imported);
    expect(book.certificates['GEC-2024-0001']?.retired).toEqual({
      period: march,
      at: '2025-04-03T01:00:00.000Z',
    });
    expect(book.certificates['GEC-2025-0002']?.retired).toBeUndefined();
    expect(book.retirements).toHaveLength(1);
  });

  it('refuses a second retirement naming the serial and its first period', () => {
    const book = run(
      [retire(['GEC-2025-0001'], { period: { from: '2025-03-01', to: '2025-03-15' } })],
      imported,
    );
    const error = refusal(
      retire(['GEC-2025-0002', 'GEC-2025-0001'], {
        period: { from: '2025-03-16', to: '2025-03-31' },
      }),
      book,
    );
    expect(error).toEqual(
      new PreconditionError('GEC GEC-2025-0001 was already retired for 2025-03-01/2025-03-15'),
    );
  });

  it('refuses over-retirement, counting earlier retirements of overlapping periods', () => {
    // 1 MWh already retired for 1-15 March overlaps 10-31 March; with 2 MWh more that is
    // (1 + 2) x 1000 = 3000 kWh against 2500 kWh of grid electricity.
    const book = run(
      [retire(['GEC-2025-0001'], { period: { from: '2025-03-01', to: '2025-03-15' } })],
      imported,
    );
    const command = retire(['GEC-2024-0001'], {
      period: { from: '2025-03-10', to: '2025-03-31' },
      gridKwhInPeriod: '2500',
    });
    expect(refusal(command, book)).toEqual(
      new PreconditionError(
        'over-retirement: GECs retired for periods overlapping 2025-03-10/2025-03-31 ' +
          '(1 MWh before, 2 MWh now) would cover 3000 kWh of 2500 kWh grid electricity',
      ),
    );
    // A period that does not overlap 1-15 March only counts its own 2 MWh = 2000 kWh <= 2500.
    expect(
      decide({ ...command, period: { from: '2025-03-16', to: '2025-03-31' } }, book),
    ).toHaveLength(1);
  });

  it('refuses too old and future vintages', () => {
    // Period month 2025-03: 2024-03 is 12 months before (allowed), 2024-02 is 13, 2025-04 is after.
    expect(decide(retire(['GEC-2024-0001']), imported)).toHaveLength(1);
    expect(refusal(retire(['GEC-2024-0002', 'GEC-2025-0003']), imported)).toEqual(
      new PreconditionError(
        "GEC GEC-2024-0002 vintage 2024-02 is 13 months before the period's month 2025-03 " +
          '(at most 12 allowed); ' +
          "GEC GEC-2025-0003 vintage 2025-04 is after the period's month 2025-03",
      ),
    );
    // Omitted rules are the default 12 months.
    expect(refusal({ ...retire(['GEC-2024-0002']), rules: undefined }, imported)).toBeInstanceOf(
      PreconditionError,
    );
    expect(
      refusal(
        retire(['GEC-2024-0001'], { rules: { maxVintageAgeMonths: 6, allowFutureVintage: false } }),
        imported,
      ),
    ).toBeInstanceOf(PreconditionError);
  });

  it('validates the period, the grid kWh and the serial list', () => {
    expect(() =>
      decide(
        retire(['GEC-2025-0001'], { period: { from: '2025-03-20', to: '2025-04-05' } }),
        imported,
      ),
    ).toThrow(
      new ValidationError([
        { field: 'period.to', description: 'must be in the same calendar month as period.from' },
      ]),
    );
    expect(() =>
      decide(
        retire(['GEC-2025-0001', 'GEC-2025-0001'], {
          period: { from: '2025-03-20', to: '2025-03-02' },
          gridKwhInPeriod: '-1',
        }),
        imported,
      ),
    ).toThrow(
      new ValidationError([
        { field: 'serials[1]', description: 'GEC GEC-2025-0001 is listed twice' },
        { field: 'period.to', description: 'must not be before period.from' },
        { field: 'grid_kwh_in_period', description: 'must not be negative' },
      ]),
    );
    expect(() =>
      decide(
        retire(['GEC-2025-0001'], { period: { from: '2025-02-29', to: '2025-02-28' } }),
        imported,
      ),
    ).toThrow(
      new ValidationError([{ field: 'period.from', description: 'must be a day "YYYY-MM-DD"' }]),
    );
  });

  it('sums covered kWh of retirements inside a range', () => {
    const book = run(
      [
        retire(['GEC-2025-0001'], { period: { from: '2025-03-01', to: '2025-03-15' } }),
        retire(['GEC-2024-0001'], { period: { from: '2025-03-16', to: '2025-03-31' } }),
      ],
      imported,
    );
    // Both inside March: (1 + 2) MWh x 1000 = 3000 kWh.
    expect(coveredKwh(book, march)).toBe('3000');
    // Only the first lies inside 1-20 March: 1 MWh = 1000 kWh.
    expect(coveredKwh(book, { from: '2025-03-01', to: '2025-03-20' })).toBe('1000');
    expect(coveredKwh(book, { from: '2025-01-01', to: '2025-12-31' })).toBe('3000');
    expect(coveredKwh(book, { from: '2025-04-01', to: '2025-04-30' })).toBe('0');
  });
});
