import type { HistoryEntry } from './types';

/**
 * The days on which public knowledge of an incident changed: each event's asserted time, which is its `assertedAt`,
 * else the earliest `publishedAt` of its sources, else its recorded time (the service's rule, docs/time-model.md).
 */
export function knowledgeDates(history: HistoryEntry[]): string[] {
  const days = new Set<string>();
  for (const entry of history) {
    const data = entry.data ?? {};
    const asserted = typeof data.assertedAt === 'string' ? data.assertedAt : undefined;
    const published = Array.isArray(data.sources)
      ? data.sources
          .map((source: unknown) => (source as { publishedAt?: unknown }).publishedAt)
          .filter((value): value is string => typeof value === 'string')
          .sort()[0]
      : undefined;
    days.add((asserted ?? published ?? entry.recordedAt).slice(0, 10));
  }
  return [...days].sort();
}
