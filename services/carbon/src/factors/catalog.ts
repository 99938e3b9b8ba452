import type { Decider } from '@park/eventstore';
import { instantText, parseInstant, Violations } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';
import {
  sameSetContent,
  validateFactorSet,
  type FactorSet,
  type FactorSetDraft,
} from './factor-set';

/**
 * The emission factor catalog: one stream holds every published set and every version of it.
 * Nothing is overwritten; a republished set is a new version that restates the periods it
 * covers (resolution uses the latest version of each set).
 */
export const FACTOR_CATALOG_STREAM = 'carbon-factor-catalog';

export interface PublishFactorSet {
  type: 'PublishFactorSet';
  set: FactorSetDraft;
  /** ISO instant of the publication in the catalog (not the publisher's document date). */
  publishedAt: string;
  /** The operator who published it. */
  publishedBy: string;
}

export type FactorCatalogCommand = PublishFactorSet;

export interface FactorSetPublished {
  type: 'FactorSetPublished';
  set: FactorSet;
  publishedAt: string;
  publishedBy: string;
}

export type FactorCatalogEvent = FactorSetPublished;

/** Every version of every set, by setId, oldest first (plain JSON, fit for a snapshot). */
export interface FactorCatalog {
  versions: Record<string, FactorSet[]>;
}

export const initialCatalog = (): FactorCatalog => ({ versions: {} });

export function decide(command: FactorCatalogCommand, state: FactorCatalog): FactorCatalogEvent[] {
  switch (command.type) {
    case 'PublishFactorSet': {
      const v = new Violations();
      const publishedAt = parseInstant(command.publishedAt);
      if (publishedAt === undefined) v.add('published_at', 'must be an ISO instant with an offset');
      const publishedBy = v.requiredText('published_by', command.publishedBy, 128);
      let content: Omit<FactorSet, 'version'> | undefined;
      try {
        content = validateFactorSet(command.set);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        for (const violation of error.violations) v.add(violation.field, violation.description);
      }
      v.throwIfAny();

      const previous = latestVersion(state, content!.setId);
      // A retried or repeated publication of the same content is a no-op.
      if (previous && sameSetContent(previous, content!)) return [];
      return [
        {
          type: 'FactorSetPublished',
          set: { ...content!, version: (previous?.version ?? 0) + 1 },
          publishedAt: instantText(publishedAt!),
          publishedBy: publishedBy!,
        },
      ];
    }
  }
}

export function evolve(state: FactorCatalog, event: FactorCatalogEvent): FactorCatalog {
  switch (event.type) {
    case 'FactorSetPublished': {
      const existing = state.versions[event.set.setId] ?? [];
      return { versions: { ...state.versions, [event.set.setId]: [...existing, event.set] } };
    }
  }
}

export const factorCatalogDecider: Decider<
  FactorCatalogCommand,
  FactorCatalogEvent,
  FactorCatalog
> = { initialState: initialCatalog, decide, evolve };

export function latestVersion(state: FactorCatalog, setId: string): FactorSet | undefined {
  const versions = state.versions[setId];
  return versions?.[versions.length - 1];
}

/** Every version of every set, the input resolveFactor expects. */
export function allVersions(state: FactorCatalog): FactorSet[] {
  return Object.values(state.versions).flat();
}
