import type { FactView, IncidentView, Source } from '@app/domain';

/**
 * A fact as the exports read it. `techniques` (MITRE ATT&CK ids) is optional so that views from before the field
 * existed export unchanged.
 */
export type ExportFact = FactView & { techniques?: string[] };

/** An incident view with every fact, retracted ones included (exports show retractions, they do not hide them). */
export type ExportIncident = Omit<IncidentView, 'timeline'> & {
  timeline: ExportFact[];
  assertedAt?: string;
  sources?: Source[];
};

/** The point in time the view was taken at, as the caller wrote it (shown in reports, part of the bundle id). */
export interface ExportPointInTime {
  knownAt?: string;
  asOf?: string;
}

export interface ExportInput {
  incident: ExportIncident;
  at: ExportPointInTime;
}

export function techniquesOf(fact: ExportFact): string[] {
  return Array.isArray(fact.techniques) ? fact.techniques : [];
}

/** Newest recorded time that touched the fact: its own, a correction's or its retraction's. */
export function lastRecordedAt(fact: ExportFact): string {
  const times = [
    fact.recordedAt,
    ...fact.corrections.map((correction) => correction.recordedAt),
    ...(fact.retraction ? [fact.retraction.recordedAt] : []),
  ];
  return times.reduce((latest, time) => (time > latest ? time : latest));
}

/** The first sentence of a text, cut at a word boundary to at most `max` characters. */
export function headline(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const sentence = /^.*?[.!?](?=\s|$)/.exec(flat)?.[0] ?? flat;
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}
