// Deterministic day-ahead scenarios for tests and benchmarks: 96 x 15 min, Shenyang-like
// time-of-use tariff, a PV bell curve, wind, an industrial load and any number of batteries.
// No randomness: every series is a closed-form function of the interval index.
import type { PlanningBattery, PlanningProblem } from '../problem';

export interface ScenarioOptions {
  batteries: number;
  /** Default 96 (15 min). */
  intervals?: number;
  /**
   * Adds a midday stretch (11:00-14:00) of negative prices with curtailment disallowed, which
   * makes the pure LP charge and discharge at once (so the MIP rounds have work to do).
   */
  negativeMiddayPrices?: boolean;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Time-of-use import price (CNY/kWh) at hour of day `hour`. */
function touPrice(hour: number): number {
  if (hour < 7 || hour >= 23) return 0.31; // valley
  if ((hour >= 8 && hour < 11) || (hour >= 17 && hour < 21)) return 1.02; // peak
  return 0.62; // flat
}

export function scenarioBattery(i: number): PlanningBattery {
  const energyKwh = 1000 + 250 * (i % 4);
  return {
    assetId: `bess-${String(i + 1).padStart(3, '0')}`,
    energyKwh,
    maxChargeKw: energyKwh / 2,
    maxDischargeKw: energyKwh / 2,
    chargeEfficiency: 0.95,
    dischargeEfficiency: 0.94,
    socMinFraction: 0.1,
    socMaxFraction: 0.95,
    initialSocFraction: 0.3 + 0.1 * (i % 5),
    degradationCnyPerMwh: 50 + 10 * (i % 3),
  };
}

export function dayScenario(options: ScenarioOptions): PlanningProblem {
  const n = options.intervals ?? 96;
  const h = 24 / n;
  const k = options.batteries;
  const hours = Array.from({ length: n }, (_, t) => (t + 0.5) * h);
  const scale = 1 + k / 10;
  const pvKw = hours.map((hr) =>
    hr < 5 || hr > 20 ? 0 : round3(3000 * scale * Math.exp(-(((hr - 12.5) / 2.8) ** 2))),
  );
  const windKw = hours.map((hr) =>
    round3(800 * scale + 400 * scale * Math.sin((hr / 24) * 4 * Math.PI + 1)),
  );
  const loadKw = hours.map((hr) =>
    round3(2000 * scale + 1500 * scale * Math.max(0, Math.sin(((hr - 6) / 14) * Math.PI))),
  );
  const negative = options.negativeMiddayPrices ?? false;
  const importPriceCnyPerKwh = hours.map((hr) =>
    negative && hr >= 11 && hr < 14 ? -0.8 : touPrice(hr),
  );
  // Feed-in never pays more than import costs, or the LP would import and export at once.
  const exportPriceCnyPerKwh = hours.map((hr) => (negative && hr >= 11 && hr < 14 ? -0.9 : 0.37));
  return {
    start: '2025-06-01T00:00:00+08:00',
    intervalHours: h,
    importPriceCnyPerKwh,
    exportPriceCnyPerKwh,
    carbonPriceCnyPerTonne: 80,
    gridFactorKgPerKwh: hours.map((hr) => round3(0.58 + 0.05 * Math.cos((hr / 24) * 2 * Math.PI))),
    importLimitKw: round3(6000 * scale),
    exportLimitKw: round3(1500 * scale),
    loadKw,
    generators: [
      { assetId: 'pv-roof-1', kind: 'pv', availableKw: pvKw },
      { assetId: 'wind-1', kind: 'wind', availableKw: windKw },
    ],
    batteries: Array.from({ length: k }, (_, i) => scenarioBattery(i)),
    flexibleLoads: [
      {
        loadId: 'ev-depot',
        energyKwh: round3(1500 * scale),
        windowStart: Math.round((18 / 24) * n),
        windowEnd: n,
        maxKw: round3(600 * scale),
      },
      {
        loadId: 'process-heat',
        energyKwh: round3(800 * scale),
        windowStart: Math.round((10 / 24) * n),
        windowEnd: Math.round((16 / 24) * n),
        maxKw: round3(400 * scale),
      },
    ],
    curtailmentCnyPerKwh: 0.05,
    allowCurtailment: !negative,
    timeLimitSeconds: 30,
    mipRelativeGap: 1e-3,
  };
}
