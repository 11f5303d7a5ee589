import { latestMs, sortMs, type FactState } from '@app/domain';
import type { IncidentHeader } from './read-model.port';

/** The header as its row stores it: status periods and links have rows of their own. */
export type StoredHeader = Omit<IncidentHeader, 'statusHistory' | 'links'>;

/** The columns both adapters index or filter on, and the rest of the header as stored data. */
export function headerColumns(header: IncidentHeader) {
  const { statusHistory: _periods, links: _links, ...stored } = header;
  return {
    id: header.id,
    title: header.title,
    category: header.category,
    status: header.status,
    updatedAt: header.updatedAt,
    version: header.version,
    search: [header.id, header.title, header.summary, ...header.victims, ...header.threatActors]
      .join('\n')
      .toLowerCase(),
    stored: stored satisfies StoredHeader,
  };
}

/** A fact's techniques, as the list filter sees them: none once it is retracted. */
export function techniquesOf(fact: FactState): string[] {
  return fact.retraction === null ? fact.techniques : [];
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A fact as its row holds it: the keys both adapters sort and filter on, and the fact itself as JSON. */
export interface FactRow {
  incidentId: string;
  factId: string;
  sortMs: number;
  latestMs: number;
  position: number;
  retracted: boolean;
  /** As the list filter sees them: none once the fact is retracted. */
  techniques: readonly string[];
  /** See `encodeFact`. */
  json: string;
}

export function factRowOf(incidentId: string, fact: FactState): FactRow {
  return {
    incidentId,
    factId: fact.factId,
    sortMs: sortMs(fact.occurredAt),
    latestMs: latestMs(fact.occurredAt),
    position: fact.position,
    retracted: fact.retraction !== null,
    techniques: techniquesOf(fact),
    json: encodeFact(fact),
  };
}

/**
 * A fact's JSON as stored. A fact never amended or corrected says what its original claim says, so its row leaves the
 * claim out (a third of the row) and `decodeFact` puts it back; other facts are stored whole.
 */
export function encodeFact(fact: FactState): string {
  if (fact.errata.length > 0 || fact.corrections.length > 0) return JSON.stringify(fact);
  const { original: _original, ...rest } = fact;
  return JSON.stringify(rest);
}

/** A fact from its stored JSON (text from SQLite, parsed already from PostgreSQL), with rows of either form. */
export function decodeFact(stored: string | object): FactState {
  // Freshly parsed, so it is this function's to complete in place.
  const fact = (typeof stored === 'string' ? JSON.parse(stored) : stored) as FactState;
  if (fact.original === undefined) {
    fact.original = {
      occurredAt: fact.occurredAt.value,
      summary: fact.summary,
      confidence: fact.confidence,
      actors: fact.actors,
      techniques: fact.techniques,
      sources: fact.sources,
      assertedAt: fact.assertedAt,
    };
  }
  return fact;
}
