import type { ExportInput } from './export-input';
import { toCsvTimeline } from './csv-timeline';
import { toMarkdownReport } from './markdown-report';
import { toStixBundle } from './stix-bundle';

export const EXPORT_FORMATS = ['stix', 'markdown', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface RenderedExport {
  body: string;
  contentType: string;
  fileName: string;
}

const FORMATS: Record<ExportFormat, { contentType: string; extension: string; render(input: ExportInput): string }> = {
  stix: {
    contentType: 'application/stix+json;version=2.1',
    extension: 'stix.json',
    render: (input) => `${JSON.stringify(toStixBundle(input), null, 2)}\n`,
  },
  markdown: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: toMarkdownReport },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv', render: toCsvTimeline },
};

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** The file an export writes, named after the incident and the point in time it shows. */
export function renderExport(format: ExportFormat, input: ExportInput): RenderedExport {
  const { contentType, extension, render } = FORMATS[format];
  const stamp = [
    input.at.knownAt !== undefined && `known-${input.at.knownAt}`,
    input.at.asOf !== undefined && `as-of-${input.at.asOf}`,
  ]
    .filter(Boolean)
    .join('-')
    .replace(/[^A-Za-z0-9.-]/g, '');
  return {
    body: render(input),
    contentType,
    fileName: `${input.incident.id}${stamp ? `-${stamp}` : ''}.${extension}`,
  };
}
