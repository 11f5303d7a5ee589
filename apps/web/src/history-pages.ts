import type { Api } from './api';
import type { HistoryEntry } from './types';

/** Every event of an incident, oldest first, following `next` from page to page. */
export async function readWholeHistory(api: Api, incidentId: string): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  let after: number | null | undefined;
  do {
    const page = await api.get<{ items: HistoryEntry[]; next: number | null }>(`/v1/incidents/${incidentId}/history`, {
      limit: '200',
      after: after === undefined || after === null ? undefined : String(after),
    });
    entries.push(...page.items);
    after = page.next;
  } while (after !== null && after !== undefined);
  return entries;
}
