import type { INestApplicationContext } from '@nestjs/common';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { IncidentFileError, IncidentImporter, parseIncidentFile, type ImportReport } from '@app/incidents';
import { UsageError, withAppContext, type CliCommand } from '../command-line';

function incidentFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name));
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'append what curated incident files say that the record does not yet (idempotent)',
  usage: `usage: npm run import -- <file.json | directory> [...]

Appends what each curated incident file says that the record does not yet say; running it again appends nothing.
A directory means every *.json file in it. See examples/incidents/README.md for the file format.
`,
  options: {},
  positionals: true,
  async run(args, config) {
    if (args.positionals.length === 0) throw new UsageError('give at least one file or directory');
    try {
      return await withAppContext(config, (app) => importFiles(app, args.positionals));
    } catch (error) {
      if (!(error instanceof IncidentFileError)) throw error;
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
  },
};

/** Appends what the curated files say that the record does not yet. */
async function importFiles(app: INestApplicationContext, args: string[]): Promise<number> {
  const importer = app.get(IncidentImporter);
  const correlationId = randomUUID();
  const files = args.flatMap(incidentFiles);
  const parsed = files.map((file) => {
    try {
      return parseIncidentFile(basename(file), readFileSync(file, 'utf8'));
    } catch (error) {
      if (error instanceof IncidentFileError) throw error;
      throw new IncidentFileError(basename(file), '(file)', `cannot be read: ${(error as Error).message}`);
    }
  });
  const reports: ImportReport[] = [];
  for (const file of parsed) reports.push(await importer.importRecord(file, correlationId));
  for (const [index, file] of parsed.entries()) await importer.importLinks(file, reports[index], correlationId);

  let failed = false;
  for (const report of reports) {
    const summary = report.appended === 0 ? 'unchanged' : `${report.appended} change(s): ${report.changes.join('; ')}`;
    process.stdout.write(`${report.id}: ${summary}\n`);
    for (const warning of report.warnings) process.stderr.write(`${report.id}: warning: ${warning}\n`);
    for (const error of report.errors) {
      failed = true;
      process.stderr.write(`${report.id}: refused: ${error}\n`);
    }
  }
  const total = reports.reduce((sum, report) => sum + report.appended, 0);
  process.stdout.write(`imported ${parsed.length} file(s), ${total} change(s) appended\n`);
  return failed ? 1 : 0;
}
