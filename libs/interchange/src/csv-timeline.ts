import type { ExportFact, ExportInput } from './export-input';
import { techniquesOf } from './export-input';

export const CSV_COLUMNS = [
  'factId',
  'kind',
  'occurredAt',
  'occurredEarliest',
  'occurredLatest',
  'summary',
  'confidence',
  'actors',
  'techniques',
  'sources',
  'assertedAt',
  'recordedAt',
  'corrected',
  'corrections',
  'retracted',
  'retractionReason',
] as const;

/**
 * One RFC 4180 field. A text starting with a character that spreadsheets read as a formula gets a leading
 * apostrophe, so opening the file never runs anything.
 */
export function csvField(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

function row(fact: ExportFact): string[] {
  return [
    fact.factId,
    fact.kind,
    fact.occurredAt,
    fact.occurredInterval.earliest ?? '',
    fact.occurredInterval.latest ?? '',
    fact.summary,
    fact.confidence,
    fact.actors.join('; '),
    techniquesOf(fact).join('; '),
    fact.sources.map((source) => source.url).join(' '),
    fact.assertedAt,
    fact.recordedAt,
    String(fact.corrected),
    fact.corrections.map((correction) => `${correction.assertedAt.slice(0, 10)}: ${correction.reason}`).join(' | '),
    String(fact.retracted),
    fact.retraction?.reason ?? '',
  ];
}

/** The timeline as CSV (RFC 4180, CRLF line ends, a header row), one row per fact, retracted ones marked. */
export function toCsvTimeline({ incident }: ExportInput): string {
  const lines = [CSV_COLUMNS.join(','), ...incident.timeline.map((fact) => row(fact).map(csvField).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
