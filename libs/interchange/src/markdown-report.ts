import type { FactKind, Source } from '@app/domain';
import type { ExportFact, ExportInput } from './export-input';
import { techniquesOf } from './export-input';

/** Backslash-escapes what markdown would read as markup, and folds line breaks (a table row is one line). */
function text(value: string): string {
  return value
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_[\]<>|]/g, (char) => `\\${char}`)
    .replace(/^([#+\-=]|\d+\.)/, (lead) => `\\${lead}`);
}

/** A midnight instant reads as the date it came from. */
function when(instant: string): string {
  return instant.endsWith('T00:00:00.000Z') ? instant.slice(0, 10) : instant;
}

function kindLabel(kind: FactKind): string {
  const words = kind.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function safeUrl(url: string): string {
  return url.replace(/[<>\s]/g, (char) => encodeURIComponent(char));
}

/** Footnotes numbered in order of first citation; a source cited twice (same url, title and date) keeps its number. */
class Footnotes {
  private readonly bySource = new Map<string, { number: number; source: Source }>();

  cite(sources: readonly Source[]): string {
    const cited = sources.map((source) => {
      const key = JSON.stringify([source.url, source.title ?? '', source.publishedAt ?? '']);
      let note = this.bySource.get(key);
      if (!note) {
        note = { number: this.bySource.size + 1, source };
        this.bySource.set(key, note);
      }
      return `[^${note.number}]`;
    });
    return [...new Set(cited)].join(' ');
  }

  lines(): string[] {
    return [...this.bySource.values()].map(({ number, source }) => {
      const parts = [source.title && text(source.title), source.publisher && text(source.publisher)];
      if (source.publishedAt) parts.push(`published ${source.publishedAt}`);
      const described = parts.filter(Boolean).join(', ');
      return `[^${number}]: ${described ? `${described}. ` : ''}<${safeUrl(source.url)}>`;
    });
  }
}

function factLabel(fact: ExportFact): string {
  return `${kindLabel(fact.kind)}, ${fact.occurredAt}`;
}

function changeList(changes: object): string {
  return Object.entries(changes)
    .filter(([field]) => field !== 'sources' && field !== 'assertedAt')
    .map(([field, value]) => `${field} → ${text(Array.isArray(value) ? value.join(', ') : String(value))}`)
    .join('; ');
}

function impactLine(impact: ExportInput['incident']['impact']): string | undefined {
  const parts = [
    impact.organisations !== undefined && `${impact.organisations} organisations`,
    impact.records !== undefined && `${impact.records} records`,
    impact.lossUsd !== undefined && `USD ${impact.lossUsd} lost`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * A post-incident report in GitHub-flavoured markdown: the header, the timeline as a table (dates as written,
 * confidence, footnoted sources), the corrections with their reasons, and the retracted facts. Pure and
 * deterministic.
 */
export function toMarkdownReport({ incident, at }: ExportInput): string {
  const notes = new Footnotes();
  const out: string[] = [`# ${text(incident.title)}`, ''];
  if (at.knownAt !== undefined) out.push(`*As known at ${at.knownAt}: only claims made public by then.*`, '');
  if (at.asOf !== undefined) out.push(`*As recorded at ${at.asOf}: only what this record held then.*`, '');

  const header: [string, string | undefined][] = [
    ['Incident', `\`${incident.id}\``],
    ['Category', incident.category],
    [
      'Status',
      incident.status === null
        ? undefined
        : `${incident.status}${incident.statusEffectiveAt ? ` since ${when(incident.statusEffectiveAt)}` : ''}`,
    ],
    ['Victims', incident.victims.length > 0 ? incident.victims.map(text).join('; ') : undefined],
    ['Threat actors', incident.threatActors.length > 0 ? incident.threatActors.map(text).join('; ') : undefined],
    ['Impact', impactLine(incident.impact)],
    ['Related', incident.links.map((link) => `\`${link.incidentId}\` (${link.relation})`).join('; ') || undefined],
    ['Record', `version ${incident.version}, last recorded ${incident.updatedAt}`],
  ];
  out.push('| | |', '|---|---|');
  for (const [label, value] of header) if (value !== undefined) out.push(`| ${label} | ${value} |`);
  out.push('');
  if (incident.sources?.length) out.push(`Sources: ${notes.cite(incident.sources)}`, '');
  if (incident.summary) out.push(text(incident.summary), '');

  const live = incident.timeline.filter((fact) => !fact.retracted);
  out.push('## Timeline', '');
  if (live.length === 0) out.push('No facts on record.', '');
  else {
    out.push('| When (as written) | What | Confidence | Sources |', '|---|---|---|---|');
    for (const fact of live) {
      const marks = [
        ...fact.actors.map((actor) => `actor: ${text(actor)}`),
        ...techniquesOf(fact).map((technique) => `ATT&CK ${technique}`),
        ...(fact.corrected ? ['corrected, see below'] : []),
      ];
      const what = `**${kindLabel(fact.kind)}.** ${text(fact.summary)}${marks.length ? ` (${marks.join('; ')})` : ''}`;
      out.push(`| ${text(fact.occurredAt)} | ${what} | ${fact.confidence} | ${notes.cite(fact.sources)} |`);
    }
    out.push('');
  }

  const corrected = incident.timeline.filter((fact) => fact.corrections.length > 0);
  if (corrected.length > 0) {
    out.push('## Corrections', '');
    for (const fact of corrected) {
      for (const correction of fact.corrections) {
        const changes = changeList(correction.changes);
        const cited = correction.changes.sources?.length ? ` ${notes.cite(correction.changes.sources)}` : '';
        out.push(
          `- **${text(factLabel(fact))}**, asserted ${when(correction.assertedAt)}: ${text(correction.reason)}` +
            `${changes ? ` Changed: ${changes}.` : ''}${cited}`,
        );
      }
    }
    out.push('');
  }

  const retracted = incident.timeline.filter((fact) => fact.retraction !== null);
  if (retracted.length > 0) {
    out.push('## Retracted', '');
    for (const fact of retracted) {
      out.push(
        `- **${text(factLabel(fact))}**, retracted (asserted ${when(fact.retraction!.assertedAt)}): ` +
          `${text(fact.retraction!.reason)} The claim was: ${text(fact.summary)}`,
      );
    }
    out.push('');
  }

  const footnotes = notes.lines();
  if (footnotes.length > 0) out.push('## Sources', '', ...footnotes, '');
  return out.join('\n');
}
