/**
 * The goods of Annex I to Regulation (EU) 2023/956 (CBAM), as amended by Regulation (EU)
 * 2025/2083, by CN code, and whether their indirect emissions count (Annex II: goods for which only
 * direct emissions are taken into account in the definitive period).
 *
 * An Annex I line names a CN code or its leading digits ("2814" covers 2814 10 00 and 2814 20 00),
 * sometimes with exceptions under it. Simplifications, each needing the operator's judgement
 * rather than the code:
 * - 2507 00 80: since 2025/2083 the line reads "ex 2507 00 80 other kaolinic clays except
 *   non-calcined kaolinic clays"; the CN code cannot tell calcined from raw clay, so the whole
 *   code is classified as cement and the enterprise must not record raw clay as CBAM output.
 * - The table says whether a code falls under a line, not whether the CN nomenclature has that
 *   code: "7601 99 99" classifies as aluminium although no such subheading exists.
 */

export const CBAM_SECTORS = [
  'cement',
  'electricity',
  'fertilisers',
  'iron_and_steel',
  'aluminium',
  'hydrogen',
] as const;
export type CbamSector = (typeof CBAM_SECTORS)[number];

export interface AnnexOneLine {
  /** As the regulation writes it: a CN code or its leading digits. */
  cn: string;
  sector: CbamSector;
  description: string;
  /** The greenhouse gases Annex I lists for the line. */
  greenhouseGases: 'CO2' | 'CO2 and N2O' | 'CO2 and PFCs';
  /** Codes (or leading digits) under `cn` that Annex I excludes. */
  except?: readonly string[];
  /**
   * Set where the line differs from its sector's rule: sintered ore is iron and steel but not in
   * Annex II, so its indirect emissions count.
   */
  indirectEmissionsCount?: boolean;
}

type Gases = AnnexOneLine['greenhouseGases'];
type Entry = [cn: string, description: string, overrides?: Partial<AnnexOneLine>];

function sector(sectorName: CbamSector, greenhouseGases: Gases, entries: Entry[]): AnnexOneLine[] {
  return entries.map(([cn, description, overrides]) => ({
    cn,
    sector: sectorName,
    description,
    greenhouseGases,
    ...overrides,
  }));
}

export const ANNEX_ONE: readonly AnnexOneLine[] = [
  ...sector('cement', 'CO2', [
    ['2507 00 80', 'Other kaolinic clays (calcined: see above)'],
    ['2523 10 00', 'Cement clinkers'],
    ['2523 21 00', 'White Portland cement'],
    ['2523 29 00', 'Other Portland cement'],
    ['2523 30 00', 'Aluminous cement'],
    ['2523 90 00', 'Other hydraulic cements'],
  ]),

  ...sector('electricity', 'CO2', [['2716 00 00', 'Electrical energy']]),

  ...sector('fertilisers', 'CO2 and N2O', [
    ['2808 00 00', 'Nitric acid; sulphonitric acids'],
    ['2814', 'Ammonia, anhydrous or in aqueous solution', { greenhouseGases: 'CO2' }],
    ['2834 21 00', 'Nitrates of potassium'],
    ['3102', 'Mineral or chemical fertilisers, nitrogenous'],
    // 3105 60 00 holds phosphorus and potassium only: no nitrogen, so no ammonia behind it.
    [
      '3105',
      'Fertilisers with two or three of N, P and K; other fertilisers',
      { except: ['3105 60 00'] },
    ],
  ]),

  ...sector('iron_and_steel', 'CO2', [
    [
      '2601 12 00',
      'Agglomerated iron ores and concentrates, other than roasted iron pyrites',
      { indirectEmissionsCount: true },
    ],
    [
      '72',
      'Iron and steel',
      {
        except: [
          '7202 2', // ferro-silicon
          '7202 30 00', // ferro-silico-manganese
          '7202 50 00', // ferro-silico-chromium
          '7202 70 00', // ferro-molybdenum
          '7202 80 00', // ferro-tungsten and ferro-silico-tungsten
          '7202 91 00', // ferro-titanium and ferro-silico-titanium
          '7202 92 00', // ferro-vanadium
          '7202 93 00', // ferro-niobium
          '7202 99', // other: ferro-phosphorus, ferro-silico-magnesium, other ferro-alloys
          '7204', // ferrous waste and scrap; remelting scrap ingots
        ],
      },
    ],
    ['7301', 'Sheet piling; welded angles, shapes and sections'],
    ['7302', 'Railway or tramway track construction material'],
    ['7303 00', 'Tubes, pipes and hollow profiles, of cast iron'],
    ['7304', 'Tubes, pipes and hollow profiles, seamless'],
    ['7305', 'Other tubes and pipes, external diameter over 406.4 mm'],
    ['7306', 'Other tubes, pipes and hollow profiles'],
    ['7307', 'Tube or pipe fittings'],
    ['7308', 'Structures and parts of structures'],
    ['7309 00', 'Reservoirs, tanks, vats, over 300 l'],
    ['7310', 'Tanks, casks, drums, cans, boxes, not over 300 l'],
    ['7311 00', 'Containers for compressed or liquefied gas'],
    ['7318', 'Screws, bolts, nuts, rivets, washers and similar articles'],
    ['7326', 'Other articles of iron or steel'],
  ]),

  // 7602 (waste and scrap) and 7615 (household and sanitary articles) are not in Annex I.
  ...sector('aluminium', 'CO2 and PFCs', [
    ['7601', 'Unwrought aluminium'],
    ['7603', 'Aluminium powders and flakes'],
    ['7604', 'Aluminium bars, rods and profiles'],
    ['7605', 'Aluminium wire'],
    ['7606', 'Aluminium plates, sheets and strip, over 0.2 mm'],
    ['7607', 'Aluminium foil, not over 0.2 mm'],
    ['7608', 'Aluminium tubes and pipes'],
    ['7609 00 00', 'Aluminium tube or pipe fittings'],
    ['7610', 'Aluminium structures and parts of structures'],
    ['7611 00 00', 'Aluminium reservoirs, tanks, vats, over 300 l'],
    ['7612', 'Aluminium casks, drums, cans, boxes, not over 300 l'],
    ['7613 00 00', 'Aluminium containers for compressed or liquefied gas'],
    ['7614', 'Stranded wire, cables, plaited bands, not electrically insulated'],
    ['7616', 'Other articles of aluminium'],
  ]),

  ...sector('hydrogen', 'CO2', [['2804 10 00', 'Hydrogen']]),
];

/**
 * Whether indirect emissions (electricity consumed in production) count in a good's embedded
 * emissions in the definitive period. Iron and steel, aluminium and hydrogen are in Annex II
 * (direct only); so is electricity since 2025/2083, for which indirect emissions are meaningless.
 * Sintered ore (2601 12 00) is the one exception by code: use classifyCnCode for a code's answer.
 */
export function indirectEmissionsCount(sector: CbamSector): boolean {
  return sector === 'cement' || sector === 'fertilisers';
}

export interface CnClassification {
  /** The 8 digits without spaces, e.g. "76011000". */
  cnCode: string;
  sector: CbamSector;
  /** The Annex I line it falls under, as the regulation writes it. */
  annexOneLine: string;
  greenhouseGases: AnnexOneLine['greenhouseGases'];
  indirectEmissionsCount: boolean;
}

const EIGHT_DIGITS = /^\d{8}$/;

/**
 * The CBAM classification of an 8-digit CN code ("7601 10 00" or "76011000"), or undefined when
 * the text is not an 8-digit code or the good is not in Annex I.
 */
export function classifyCnCode(code: string): CnClassification | undefined {
  const cnCode = normalisedCnCode(code);
  if (cnCode === undefined) return undefined;
  const line = INDEXED_LINES.find(
    (candidate) =>
      cnCode.startsWith(candidate.prefix) &&
      !candidate.exceptPrefixes.some((excluded) => cnCode.startsWith(excluded)),
  );
  if (!line) return undefined;
  return {
    cnCode,
    sector: line.sector,
    annexOneLine: line.cn,
    greenhouseGases: line.greenhouseGases,
    indirectEmissionsCount: line.indirectEmissionsCount ?? indirectEmissionsCount(line.sector),
  };
}

/** "7601 10 00" -> "76011000"; undefined unless 8 digits remain once spaces are removed. */
export function normalisedCnCode(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  const digits = code.replace(/\s+/g, '');
  return EIGHT_DIGITS.test(digits) ? digits : undefined;
}

const digitsOf = (cn: string): string => cn.replace(/\s+/g, '');

// Longest prefix first, so a specific line would win over a chapter if both ever matched.
const INDEXED_LINES = ANNEX_ONE.map((line) => ({
  ...line,
  prefix: digitsOf(line.cn),
  exceptPrefixes: (line.except ?? []).map(digitsOf),
})).sort((a, b) => b.prefix.length - a.prefix.length);
