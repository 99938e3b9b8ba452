import { park } from '@park/contracts';
import type { Quality } from '../readings/model';
import type { Commodity, MeterRole, MeterUnit, RegisterType } from '../registry/meter-registration';
import type { SizeBand } from '../registry/park';

const v1 = park.metering.v1;

/*
 * Domain values to protobuf enums. Each switch is exhaustive with no default: a value added to
 * the domain does not compile until it is mapped here (and, if new, added to the proto).
 */

export function commodityToProto(commodity: Commodity): park.metering.v1.Commodity {
  switch (commodity) {
    case 'electricity':
      return v1.Commodity.COMMODITY_ELECTRICITY;
    case 'natural_gas':
      return v1.Commodity.COMMODITY_NATURAL_GAS;
    case 'heat':
      return v1.Commodity.COMMODITY_HEAT;
    case 'steam':
      return v1.Commodity.COMMODITY_STEAM;
    case 'water':
      return v1.Commodity.COMMODITY_WATER;
    case 'diesel':
      return v1.Commodity.COMMODITY_DIESEL;
    case 'hydrogen':
      return v1.Commodity.COMMODITY_HYDROGEN;
  }
}

export function meterRoleToProto(role: MeterRole): park.metering.v1.MeterRole {
  switch (role) {
    case 'grid_import':
      return v1.MeterRole.METER_ROLE_GRID_IMPORT;
    case 'grid_export':
      return v1.MeterRole.METER_ROLE_GRID_EXPORT;
    case 'green_direct_line':
      return v1.MeterRole.METER_ROLE_GREEN_DIRECT_LINE;
    case 'onsite_pv':
      return v1.MeterRole.METER_ROLE_ONSITE_PV;
    case 'wind':
      return v1.MeterRole.METER_ROLE_WIND;
    case 'storage_charge':
      return v1.MeterRole.METER_ROLE_STORAGE_CHARGE;
    case 'storage_discharge':
      return v1.MeterRole.METER_ROLE_STORAGE_DISCHARGE;
    case 'storage_soc':
      return v1.MeterRole.METER_ROLE_STORAGE_STATE_OF_CHARGE;
    case 'internal_transfer':
      return v1.MeterRole.METER_ROLE_INTERNAL_TRANSFER;
    case 'sub_meter':
      return v1.MeterRole.METER_ROLE_SUB_METER;
  }
}

export function unitToProto(unit: MeterUnit): park.common.v1.Unit {
  switch (unit) {
    case 'kWh':
      return park.common.v1.Unit.UNIT_KWH;
    case 'MWh':
      return park.common.v1.Unit.UNIT_MWH;
    case 'Nm3':
      return park.common.v1.Unit.UNIT_NM3;
    case 'GJ':
      return park.common.v1.Unit.UNIT_GJ;
    case 'MJ':
      return park.common.v1.Unit.UNIT_MJ;
    case 't':
      return park.common.v1.Unit.UNIT_TONNE;
    case 'm3':
      return park.common.v1.Unit.UNIT_M3;
    case 'kg':
      return park.common.v1.Unit.UNIT_KG;
    case '%':
      return park.common.v1.Unit.UNIT_PERCENT;
  }
}

export function registerTypeToProto(registerType: RegisterType): park.metering.v1.RegisterType {
  switch (registerType) {
    case 'cumulative':
      return v1.RegisterType.REGISTER_TYPE_CUMULATIVE;
    case 'interval':
      return v1.RegisterType.REGISTER_TYPE_INTERVAL;
  }
}

export function qualityToProto(quality: Quality): park.metering.v1.Quality {
  switch (quality) {
    case 'measured':
      return v1.Quality.QUALITY_MEASURED;
    case 'estimated':
      return v1.Quality.QUALITY_ESTIMATED;
    case 'edited':
      return v1.Quality.QUALITY_EDITED;
  }
}

export function sizeBandToProto(sizeBand: SizeBand): park.metering.v1.SizeBand {
  switch (sizeBand) {
    case 'below_200k_tce':
      return v1.SizeBand.SIZE_BAND_BELOW_200K_TCE;
    case '200k_to_1m_tce':
      return v1.SizeBand.SIZE_BAND_200K_TO_1M_TCE;
    case 'above_1m_tce':
      return v1.SizeBand.SIZE_BAND_ABOVE_1M_TCE;
  }
}

/** The method names of events.proto: "prorated" or "interpolated". */
export function estimationMethodToProto(
  method: 'prorated_register_difference' | 'linear_interpolation',
): string {
  switch (method) {
    case 'prorated_register_difference':
      return 'prorated';
    case 'linear_interpolation':
      return 'interpolated';
  }
}
