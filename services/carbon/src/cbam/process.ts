import { decimalText, Violations } from '@park/domain-primitives';
import type { Decider } from '@park/eventstore';
import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import { classifyCnCode, normalisedCnCode, type CbamSector } from './annex-one';

/**
 * A production process of an installation: the meters that serve it, what it made per month
 * (CBAM goods, and other output whose share of the emissions is excluded) and the precursors
 * it consumed. One stream per process.
 */
export interface ProcessDetails {
  processId: string;
  installationId: string;
  enterpriseId: string;
  name: string;
  meterIds: string[];
}

export interface ProductionEntry {
  month: string;
  cnCode: string;
  netMassTonnes: string;
  route: string;
  nonCbamOutput: boolean;
  /** The Annex I sector of a CBAM good. */
  sector?: CbamSector;
}

export interface PrecursorEntry {
  month: string;
  cnCode: string;
  consumedTonnes: string;
  directSee: string;
  indirectSee: string;
  origin: 'own' | 'supplier';
  supplier: string;
}

export type ProcessCommand =
  | ({ type: 'RegisterProcess' } & ProcessDetails)
  | ({ type: 'RecordProduction'; processId: string } & Omit<ProductionEntry, 'sector'>)
  | ({ type: 'RecordPrecursor'; processId: string } & PrecursorEntry);

export type ProcessEvent =
  | ({ type: 'ProcessRegistered' } & ProcessDetails)
  | ({ type: 'ProductionRecorded'; processId: string } & ProductionEntry)
  | ({ type: 'PrecursorRecorded'; processId: string } & PrecursorEntry);

export type ProcessState = { registered: false } | ({ registered: true } & ProcessDetails);

export const processStreamId = (processId: string): string => `process-${processId}`;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function month(v: Violations, value: unknown): string | undefined {
  if (typeof value !== 'string' || !MONTH.test(value)) {
    v.add('month', 'must be a month YYYY-MM');
    return undefined;
  }
  return value;
}

function registered(state: ProcessState, processId: string): ProcessDetails {
  if (!state.registered) throw new NotFoundError(`process ${processId} is not registered`);
  return state;
}

function decideProcess(command: ProcessCommand, state: ProcessState): ProcessEvent[] {
  switch (command.type) {
    case 'RegisterProcess': {
      const v = new Violations();
      const processId = v.requiredText('process.process_id', command.processId, 64);
      const installationId = v.requiredText('process.installation_id', command.installationId, 64);
      const enterpriseId = v.requiredText('process.enterprise_id', command.enterpriseId, 64);
      const name = v.requiredText('process.name', command.name, 200);
      const meterIds = [...new Set((command.meterIds ?? []).map((id) => id.trim()))];
      if (meterIds.length === 0 || meterIds.some((id) => id === '')) {
        v.add('process.meter_ids', 'must name the meters that serve the process');
      }
      v.throwIfAny();
      const details: ProcessDetails = {
        processId: processId!,
        installationId: installationId!,
        enterpriseId: enterpriseId!,
        name: name!,
        meterIds: meterIds.sort(),
      };
      if (
        state.registered &&
        JSON.stringify({ ...state, registered: undefined }) ===
          JSON.stringify({ ...details, registered: undefined })
      ) {
        return [];
      }
      if (state.registered && state.enterpriseId !== details.enterpriseId) {
        throw ValidationError.field(
          'process.enterprise_id',
          `process ${details.processId} belongs to ${state.enterpriseId}`,
        );
      }
      return [{ type: 'ProcessRegistered', ...details }];
    }
    case 'RecordProduction': {
      registered(state, command.processId);
      const v = new Violations();
      const period = month(v, command.month);
      const cnCode = normalisedCnCode(command.cnCode);
      let sector: CbamSector | undefined;
      if (!cnCode) v.add('cn_code', 'must be an 8-digit CN code, e.g. "7601 10 00"');
      else if (!command.nonCbamOutput) {
        sector = classifyCnCode(cnCode)?.sector;
        if (!sector) {
          v.add(
            'cn_code',
            `${cnCode} is not a CBAM good (Annex I of Regulation (EU) 2023/956); record other ` +
              'output with non_cbam_output set',
          );
        }
      } else if (classifyCnCode(cnCode)) {
        // An Annex I good recorded as non-CBAM output would drop out of the declaration (and
        // the attribution refuses the period's data): refuse it here, before it is stored.
        v.add(
          'non_cbam_output',
          `${cnCode} is a CBAM good (Annex I of Regulation (EU) 2023/956): record it as CBAM output`,
        );
      }
      const mass = v.positiveDecimal('net_mass_tonnes', command.netMassTonnes);
      const route = v.optionalText('route', command.route, 200) ?? '';
      v.throwIfAny();
      return [
        {
          type: 'ProductionRecorded',
          processId: command.processId,
          month: period!,
          cnCode: cnCode!,
          netMassTonnes: decimalText(mass!),
          route,
          nonCbamOutput: command.nonCbamOutput,
          ...(sector ? { sector } : {}),
        },
      ];
    }
    case 'RecordPrecursor': {
      registered(state, command.processId);
      const v = new Violations();
      const period = month(v, command.month);
      const cnCode = normalisedCnCode(command.cnCode);
      if (!cnCode) v.add('cn_code', 'must be an 8-digit CN code');
      // Relevant precursors are Annex I goods themselves; the attribution refuses any other code.
      else if (!classifyCnCode(cnCode)) {
        v.add('cn_code', `${cnCode} is not a CBAM good (Annex I of Regulation (EU) 2023/956)`);
      }
      const consumed = v.positiveDecimal('consumed_tonnes', command.consumedTonnes);
      const direct = nonNegative(v, 'direct_see', command.directSee);
      const indirect = nonNegative(v, 'indirect_see', command.indirectSee);
      const origin = v.oneOf('origin', command.origin, ['own', 'supplier'] as const);
      const supplier = v.optionalText('supplier', command.supplier, 200) ?? '';
      if (origin === 'supplier' && supplier === '')
        v.add('supplier', 'is required for a bought precursor');
      v.throwIfAny();
      return [
        {
          type: 'PrecursorRecorded',
          processId: command.processId,
          month: period!,
          cnCode: cnCode!,
          consumedTonnes: decimalText(consumed!),
          directSee: direct!,
          indirectSee: indirect!,
          origin: origin!,
          supplier,
        },
      ];
    }
  }
}

function nonNegative(v: Violations, field: string, value: unknown): string | undefined {
  if (value === '0' || value === '0.0') return '0';
  const parsed = v.positiveDecimal(field, value);
  return parsed && decimalText(parsed);
}

export const processDecider: Decider<ProcessCommand, ProcessEvent, ProcessState> = {
  initialState: () => ({ registered: false }),
  decide: decideProcess,
  evolve(state, event) {
    if (event.type !== 'ProcessRegistered') return state;
    const { type: _type, ...details } = event;
    return { registered: true, ...details };
  },
};
