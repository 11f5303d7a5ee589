import type { INestApplicationContext } from '@nestjs/common';
import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { isDateOrInstant, isIncidentId, isRfc3339Instant } from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { IncidentNotFoundError, IncidentViews, normalisePointInTime } from '@app/incidents';
import { EXPORT_FORMATS, isExportFormat, renderExport, type ExportFormat } from '@app/interchange';
import { stringOption, UsageError, withAppContext, type CliCommand } from '../command-line';

const USAGE = `usage: npm run cli -- export --incident <id> --format stix|markdown|csv [--known-at <date|instant>]
                                   [--as-of <instant>] [--out <file>|-]
       npm run cli -- export [<file>]

  --incident   the incident to export, e.g. storm-0558
  --format     stix (a STIX 2.1 bundle), markdown (a post-incident report) or csv (one row per fact)
  --known-at   only claims public by then (date or RFC 3339 instant)
  --as-of      only what the record held at that instant (recorded time)
  --out        where to write; default: the file name the HTTP export gives (e.g. storm-0558.stix.json) in the
               current directory; - for stdout

Without --incident: the whole event log as NDJSON, one event per line, oldest first, to <file> or stdout.
`;

interface IncidentExport {
  incidentId: string;
  format: ExportFormat;
  knownAt?: string;
  asOf?: string;
  out?: string;
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'an incident as STIX 2.1, markdown or CSV; or the whole log as NDJSON',
  usage: USAGE,
  options: {
    incident: { type: 'string' },
    format: { type: 'string' },
    'known-at': { type: 'string' },
    'as-of': { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  positionals: true,
  async run(args, config) {
    const incidentId = stringOption(args, 'incident');
    if (incidentId === undefined) {
      for (const flag of ['format', 'known-at', 'as-of', 'out']) {
        if (args.values[flag] !== undefined) throw new UsageError(`--${flag} needs --incident`);
      }
      if (args.positionals.length > 1) throw new UsageError('give at most one file for the NDJSON log');
      return withAppContext(config, (app) => exportLog(app, args.positionals[0]));
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument: ${args.positionals[0]}`);
    const request = incidentExport(incidentId, args);
    return withAppContext(config, (app) => exportIncident(app, request));
  },
};

function incidentExport(incidentId: string, args: Parameters<CliCommand['run']>[0]): IncidentExport {
  if (!isIncidentId(incidentId)) throw new UsageError(`--incident must be an incident id such as storm-0558`);
  const format = stringOption(args, 'format');
  if (format === undefined) throw new UsageError('--format is required with --incident');
  if (!isExportFormat(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  const knownAt = stringOption(args, 'known-at');
  if (knownAt !== undefined && !isDateOrInstant(knownAt)) {
    throw new UsageError('--known-at must be a date (YYYY-MM-DD) or an RFC 3339 instant');
  }
  const asOf = stringOption(args, 'as-of');
  if (asOf !== undefined && !isRfc3339Instant(asOf)) throw new UsageError('--as-of must be an RFC 3339 instant');
  return { incidentId, format, knownAt, asOf, out: stringOption(args, 'out') };
}

async function exportIncident(app: INestApplicationContext, request: IncidentExport): Promise<number> {
  const at = normalisePointInTime({ knownAt: request.knownAt, asOf: request.asOf });
  // Folded from the log even for the live view: the read models may lag behind imports made with the API stopped.
  at.asOf ??= new Date().toISOString();
  let incident;
  try {
    incident = await app.get(IncidentViews).incident(request.incidentId, at, true);
  } catch (error) {
    if (!(error instanceof IncidentNotFoundError)) throw error;
    process.stderr.write(
      `no incident ${request.incidentId}${request.knownAt || request.asOf ? ' at that time' : ''}\n`,
    );
    return 1;
  }
  const file = renderExport(request.format, {
    incident,
    at: { knownAt: request.knownAt, asOf: request.asOf },
  });
  if (request.out === '-') {
    process.stdout.write(file.body);
    return 0;
  }
  const path = request.out ?? file.fileName;
  writeFileSync(path, file.body);
  process.stderr.write(`wrote ${path} (${incident.timeline.length} fact(s), ${request.format})\n`);
  return 0;
}

async function exportLog(app: INestApplicationContext, path: string | undefined): Promise<number> {
  const store = app.get<EventStore>(EVENT_STORE);
  const out = path ? createWriteStream(path) : process.stdout;
  let after = 0n;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    if (page.length === 0) break;
    for (const event of page) {
      const line = JSON.stringify({ ...event, position: Number(event.position) });
      if (!out.write(`${line}\n`)) await once(out, 'drain');
      count += 1;
    }
    after = page[page.length - 1].position;
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  process.stderr.write(`exported ${count} event(s)\n`);
  return 0;
}
