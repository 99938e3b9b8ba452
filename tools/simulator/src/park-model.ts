import { creditCodeCheckCharacter, organizationCodeCheckCharacter } from '@park/metering';

/**
 * A synthetic park, the same for the same seed: enterprises of the park's sectors with their
 * meters, a PV plant and a wind farm, a green direct line, two storage sites.
 */
export type Sector = 'automotive' | 'equipment' | 'biomedicine' | 'logistics';

export interface SimEnterprise {
  enterpriseId: string;
  name: string;
  creditCode: string;
  industryCode: string;
  sector: Sector;
  exporter: boolean;
  /** Average electrical load when running, kW. */
  baseLoadKw: number;
  /** On-site PV capacity (kW), 0 for none. */
  pvKw: number;
  gas: boolean;
  heat: boolean;
  /** Fed by the park's green direct line. */
  directLine: boolean;
}

export type MeterKind = 'grid' | 'direct_line' | 'pv' | 'gas' | 'heat' | 'soc' | 'plant';

export interface SimMeter {
  meterId: string;
  enterpriseId: string;
  kind: MeterKind;
  /** Plants and storage: the asset the meter measures. */
  assetId?: string;
}

export interface SimPark {
  parkId: string;
  seed: number;
  enterprises: SimEnterprise[];
  meters: SimMeter[];
  plants: { plantId: string; kind: 'pv' | 'wind'; capacityKw: number; meterId: string }[];
  batteries: { batteryId: string; energyKwh: number; powerKw: number; socMeterId: string }[];
  line: { lineId: string; plantId: string; consumers: string[] };
  /** The park operator's own entity: it owns the plants and the storage. */
  operatorEnterpriseId: string;
  operatorCreditCode: string;
}

/** mulberry32: a small, fast seeded generator (no dependency, same sequence everywhere). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECTORS: { sector: Sector; industry: string; names: string[] }[] = [
  {
    sector: 'automotive',
    industry: 'C3670',
    names: ['华晨汽车零部件', '沈阳金杯座椅', '北方车桥制造', '辽宁精密冲压'],
  },
  {
    sector: 'equipment',
    industry: 'C3440',
    names: ['新松机器人装备', '沈阳机床智能制造', '东北重型装备', '浑南数控系统'],
  },
  {
    sector: 'biomedicine',
    industry: 'C2710',
    names: ['三生制药', '东软医疗器械', '辽宁生物疫苗', '盛京药业'],
  },
  {
    sector: 'logistics',
    industry: 'G5990',
    names: ['沈阳冷链物流', '东北综合物流', '临空快递分拨', '保税仓储'],
  },
];

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A unified social credit code with valid check characters (GB 32100 and GB 11714). */
export function creditCode(random: () => number): string {
  let body = '';
  for (let i = 0; i < 8; i++) body += CHARSET.charAt(Math.floor(random() * 10));
  const organization = body + organizationCodeCheckCharacter(body);
  const first17 = `91210112${organization}`;
  return first17 + creditCodeCheckCharacter(first17);
}

export function buildPark(options: {
  seed: number;
  enterprises: number;
  parkId?: string;
}): SimPark {
  const random = seededRandom(options.seed);
  const parkId = options.parkId ?? 'park-shenyang';
  const enterprises: SimEnterprise[] = [];
  for (let i = 0; i < options.enterprises; i++) {
    const kind = SECTORS[i % SECTORS.length]!;
    const base = kind.names[Math.floor(i / SECTORS.length) % kind.names.length]!;
    const round = Math.floor(i / (SECTORS.length * kind.names.length));
    enterprises.push({
      enterpriseId: `ent-${String(i + 1).padStart(3, '0')}`,
      name: `${base}${round > 0 ? `${round + 1}厂` : ''}有限公司`,
      creditCode: creditCode(random),
      industryCode: kind.industry,
      sector: kind.sector,
      exporter: random() < 0.2,
      baseLoadKw: Math.round(200 + random() * 1800),
      pvKw: random() < 0.4 ? Math.round(100 + random() * 400) : 0,
      gas: kind.sector !== 'logistics' && random() < 0.5,
      heat: random() < 0.6,
      directLine: false,
    });
  }
  // The direct line feeds the three largest exporters (or the largest enterprises).
  const fed = [...enterprises]
    .sort((a, b) => Number(b.exporter) - Number(a.exporter) || b.baseLoadKw - a.baseLoadKw)
    .slice(0, 3);
  for (const enterprise of fed) enterprise.directLine = true;

  const operatorEnterpriseId = 'ent-park-energy';
  const meters: SimMeter[] = [];
  for (const e of enterprises) {
    meters.push({ meterId: `${e.enterpriseId}-grid`, enterpriseId: e.enterpriseId, kind: 'grid' });
    if (e.directLine)
      meters.push({
        meterId: `${e.enterpriseId}-dl`,
        enterpriseId: e.enterpriseId,
        kind: 'direct_line',
      });
    if (e.pvKw > 0)
      meters.push({ meterId: `${e.enterpriseId}-pv`, enterpriseId: e.enterpriseId, kind: 'pv' });
    if (e.gas)
      meters.push({ meterId: `${e.enterpriseId}-gas`, enterpriseId: e.enterpriseId, kind: 'gas' });
    if (e.heat)
      meters.push({
        meterId: `${e.enterpriseId}-heat`,
        enterpriseId: e.enterpriseId,
        kind: 'heat',
      });
  }
  const plants = [
    { plantId: 'pv-park-1', kind: 'pv' as const, capacityKw: 5000, meterId: 'plant-pv-park-1' },
    {
      plantId: 'wind-park-1',
      kind: 'wind' as const,
      capacityKw: 3000,
      meterId: 'plant-wind-park-1',
    },
  ];
  const batteries = [
    { batteryId: 'storage-north', energyKwh: 4000, powerKw: 1000, socMeterId: 'soc-storage-north' },
    { batteryId: 'storage-south', energyKwh: 2000, powerKw: 500, socMeterId: 'soc-storage-south' },
  ];
  for (const plant of plants) {
    meters.push({
      meterId: plant.meterId,
      enterpriseId: operatorEnterpriseId,
      kind: 'plant',
      assetId: plant.plantId,
    });
  }
  for (const battery of batteries) {
    meters.push({
      meterId: battery.socMeterId,
      enterpriseId: operatorEnterpriseId,
      kind: 'soc',
      assetId: battery.batteryId,
    });
  }
  return {
    parkId,
    seed: options.seed,
    enterprises,
    meters,
    plants,
    batteries,
    line: {
      lineId: 'line-wind-1',
      plantId: 'wind-park-1',
      consumers: fed.map((e) => e.enterpriseId),
    },
    operatorEnterpriseId,
    operatorCreditCode: creditCode(random),
  };
}
