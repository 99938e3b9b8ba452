import type {
  DecommissionMeter,
  MeterDescriptor,
  MeterRegistration,
  MeterSnapshot,
  RegisterMeter,
  ReplaceMeter,
} from '../registry/meter-registration';

/** measured: from the meter; estimated: filled by VEE; edited: set or derived by an operator. */
export type Quality = 'measured' | 'estimated' | 'edited';

/**
 * One interval of a meter as the stream knows it. For a cumulative meter `register` is the raw
 * register (meter unit, before the multiplier) at the interval's END, and `value` the difference
 * to the previous interval's register times the multiplier, present once both registers are
 * known. For an interval meter only `value` is used (raw value times the multiplier).
 */
export interface SlotState {
  value?: string;
  quality?: Quality;
  source?: string;
  register?: string;
  /** The register was implied by an operator's value edit, not read from the meter. */
  registerEdited?: true;
}

/** The adapter's read-model rows for intervals older than the state's window; null: no data. */
export type SlotHistory = Record<string, SlotState | null>;

export interface IncomingReading {
  intervalStart: string;
  /** Interval meters: the interval's consumption (raw, before the multiplier). */
  value?: string;
  /** Cumulative meters: the register at the end of the interval. */
  register?: string;
  unit: string;
  /** Who delivered it: "gateway:gw-17", "csv:upload-42", "parkctl". */
  source: string;
  /** Why a resent value differs, when the sender knows (e.g. "gateway re-read after outage"). */
  reason?: string;
}

export interface IngestReadings {
  type: 'IngestReadings';
  meterId: string;
  /** The clock is an input: future and too-old checks are made against it. */
  now: string;
  readings: IncomingReading[];
  history?: SlotHistory;
}

export interface FillGaps {
  type: 'FillGaps';
  meterId: string;
  now: string;
  /** How long after a gap's end late data may still arrive before it is estimated. Default 60. */
  graceDelayMinutes?: number;
}

/** Operator commands: that the caller is an operator is the adapter's check. */
export interface AcceptReading {
  type: 'AcceptReading';
  meterId: string;
  intervalStart: string;
  reason: string;
  history?: SlotHistory;
}

export interface CorrectReading {
  type: 'CorrectReading';
  meterId: string;
  intervalStart: string;
  /** The interval's value in the meter's unit, after the multiplier. */
  value: string;
  reason: string;
  /** The operator, e.g. "operator:li.wei"; "operator" when absent. */
  source?: string;
  history?: SlotHistory;
}

export interface RejectHeldReading {
  type: 'RejectHeldReading';
  meterId: string;
  intervalStart: string;
  reason: string;
}

export type MeterCommand =
  | RegisterMeter
  | ReplaceMeter
  | DecommissionMeter
  | IngestReadings
  | FillGaps
  | AcceptReading
  | CorrectReading
  | RejectHeldReading;

export interface RecordedReading {
  intervalStart: string;
  intervalEnd: string;
  /**
   * Absent only for a cumulative meter's register whose previous register is not known yet (the
   * first reading of a meter, or one after a gap): consumers of interval values skip such entries.
   */
  value?: string;
  quality: 'measured' | 'edited';
  source: string;
  register?: string;
  registerEdited?: true;
}

export interface EstimatedReading {
  intervalStart: string;
  intervalEnd: string;
  value: string;
}

export interface HeldReading {
  /** The candidate interval value (cumulative: absent when its previous register is unknown). */
  value?: string;
  register?: string;
  source: string;
  reason: string;
  /** The spike limit it exceeded, in the meter's unit per interval. */
  limit?: string;
}

export interface Replacement {
  at: string;
  oldFinalRegister?: string;
  newFirstRegister?: string;
  /** The new meter's multiplier and rollover value, from `at` on. */
  multiplier: string;
  registerMaximum?: string;
  /** The new physical meter's serial number, when given. */
  serialNumber?: string;
}

export interface DetectedGap {
  start: string;
  end: string;
  missingIntervals: number;
}

export type MeterEvent =
  | ({ type: 'MeterRegistered' } & MeterRegistration)
  | ({
      type: 'MeterReplaced';
      meterId: string;
      /** The replaced meter's serial number, when it was known. */
      oldSerialNumber?: string;
      /** The meter after the replacement (the registry topic carries whole meters). */
      current: MeterSnapshot;
    } & Replacement)
  | {
      type: 'MeterDecommissioned';
      meterId: string;
      at: string;
      /** The meter's registration at decommissioning. */
      current: MeterSnapshot;
    }
  | { type: 'ReadingsRecorded'; meter: MeterDescriptor; readings: RecordedReading[] }
  | {
      type: 'ReadingCorrected';
      meter: MeterDescriptor;
      intervalStart: string;
      intervalEnd: string;
      oldValue?: string;
      newValue: string;
      oldQuality?: Quality;
      newQuality: Quality;
      oldRegister?: string;
      register?: string;
      registerEdited?: true;
      reason: string;
      source: string;
    }
  | {
      type: 'ReadingsEstimated';
      meter: MeterDescriptor;
      method: 'prorated_register_difference' | 'linear_interpolation';
      /** Cumulative: the registers that bound the gap; interval: the neighbouring values. */
      basis: { before: string; after: string };
      readings: EstimatedReading[];
    }
  | {
      type: 'ReadingsHeld';
      meter: MeterDescriptor;
      readings: (HeldReading & { intervalStart: string; intervalEnd: string })[];
    }
  | {
      type: 'HeldReadingResolved';
      meter: MeterDescriptor;
      intervalStart: string;
      resolution: 'accepted' | 'corrected' | 'rejected' | 'superseded';
      reason: string;
    }
  | ({ type: 'GapDetected'; meter: MeterDescriptor } & DetectedGap)
  | { type: 'GapClosed'; meter: MeterDescriptor; start: string; end: string };

export type RegisteredMeterState = {
  status: 'active' | 'decommissioned';
  registration: MeterRegistration;
  decommissionedAt?: string;
  replacements: Replacement[];
  /** The latest interval start with any data: the window hangs off it. */
  latestSlot?: string;
  /** Intervals from here on are in `slots`; older ones are in the read model only. */
  windowStart?: string;
  slots: Record<string, SlotState>;
  /** Held readings awaiting an operator, by interval start; kept until resolved. */
  held: Record<string, HeldReading>;
  /** Merged [start, end) ranges of intervals with a value, back to the late-data window. */
  coverage: [string, string][];
  gaps: DetectedGap[];
};

export type MeterState = { status: 'unregistered' } | RegisteredMeterState;

export interface MeterDeciderOptions {
  /** Readings for intervals that ended longer ago than this are rejected. */
  lateDataWindowDays: number;
  /** Clock skew allowed for an interval's end. */
  futureToleranceMinutes: number;
  /** Intervals kept in state behind the latest one. */
  recentWindowIntervals: number;
  /** Longer gaps are reported, not estimated. */
  maxEstimatedGapIntervals: number;
  /** Estimates are rounded half-even to this many places (the last one takes the remainder). */
  estimateDecimalPlaces: number;
}

export const DEFAULT_METER_OPTIONS: MeterDeciderOptions = {
  lateDataWindowDays: 90,
  futureToleranceMinutes: 5,
  recentWindowIntervals: 192,
  maxEstimatedGapIntervals: 4,
  estimateDecimalPlaces: 6,
};

export const DEFAULT_GRACE_DELAY_MINUTES = 60;

export type ReadingResult =
  | { index: number; intervalStart: string; status: 'accepted'; value?: string }
  | { index: number; intervalStart: string; status: 'duplicate' }
  | {
      index: number;
      intervalStart: string;
      status: 'corrected';
      oldValue?: string;
      newValue?: string;
    }
  | { index: number; intervalStart: string; status: 'held'; reason: string }
  | { index: number; intervalStart: string; status: 'rejected'; field: string; reason: string };
