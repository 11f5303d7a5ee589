import type { FactState } from '@app/domain';
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
