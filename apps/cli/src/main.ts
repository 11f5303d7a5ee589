import { ConfigError } from '@app/config/config.schema';
import { loadConfig } from '@app/config/app-config';
import { parseCommandArgs, UsageError, type CliCommand } from './command-line';

interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded on use, so a command pays only for the libraries it needs (`token` never loads Nest). */
  load(): Promise<CliCommand>;
}

const COMMANDS: CommandEntry[] = [
  {
    name: 'import',
    summary: 'append what curated incident files say that the record does not yet (idempotent)',
    load: async () => (await import('./commands/import.command')).importCommand,
  },
  {
    name: 'rebuild',
    summary: 'drop the read models and rebuild them from the log (refused while the API runs)',
    load: async () => (await import('./commands/rebuild.command')).rebuildCommand,
  },
  {
    name: 'export',
    summary: 'an incident as STIX 2.1, markdown or CSV; or the whole log as NDJSON',
    load: async () => (await import('./commands/export.command')).exportCommand,
  },
  {
    name: 'migrate',
    summary: 'copy the embedded SQLite log into an empty PostgreSQL or EventStoreDB store, verified',
    load: async () => (await import('./commands/migrate.command')).migrateCommand,
  },
  {
    name: 'projections',
    summary: 'list parked incidents (poison events) or retry one',
    load: async () => (await import('./commands/projections.command')).projectionsCommand,
  },
  {
    name: 'token',
    summary: 'print a bearer token signed by the local issuer (and nothing else on stdout)',
    load: async () => (await import('./commands/token.command')).tokenCliCommand,
  },
];

const USAGE = `usage: npm run cli -- <command> [options]      (npm run cli -- <command> --help for its options)

commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(9)} ${command.summary}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    if (args[0] === undefined) {
      process.stdout.write(USAGE);
      return 0;
    }
    const topic = COMMANDS.find((entry) => entry.name === args[0]);
    if (!topic) {
      process.stderr.write(`unknown command: ${args[0]}\n\n${USAGE}`);
      return 2;
    }
    process.stdout.write((await topic.load()).usage);
    return 0;
  }
  const entry = COMMANDS.find((candidate) => candidate.name === name);
  if (!entry) {
    process.stderr.write(`unknown command: ${name}\n\n${USAGE}`);
    return 2;
  }
  const command = await entry.load();
  try {
    const parsed = parseCommandArgs(args, command.options, command.positionals);
    if (parsed.values.help === true) {
      process.stdout.write(command.usage);
      return 0;
    }
    return await command.run(parsed, loadConfig({ ...process.env, PROJECTIONS: 'false' }));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${command.usage}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : `failed: ${(error as Error)?.message ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
  },
);
