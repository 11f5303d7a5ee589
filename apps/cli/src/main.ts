import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { IncidentFileError } from '@app/incidents';
import { CliModule } from './cli.module';
import { exportCommand } from './commands/export.command';
import { importCommand } from './commands/import.command';
import { migrateCommand } from './commands/migrate.command';
import { rebuildCommand } from './commands/rebuild.command';
import { tokenCommand } from './commands/token.command';

const USAGE = `usage: npm run cli -- <command> [args]

commands:
  import <file|dir> ...   append what curated incident files say that the record does not yet
  rebuild                 drop the read models and rebuild them from the log (stop the API first)
  export [file]           write the whole log as NDJSON (stdout by default)
  migrate --to postgres|eventstoredb
                          copy the embedded SQLite log into an empty PostgreSQL or EventStoreDB store, verified
  token --scopes <s,...> --sub <name> [--ttl 1h]
                          print a bearer token signed by the local issuer (and nothing else on stdout)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const commands: Record<
    string,
    (app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>, args: string[]) => Promise<number>
  > = {
    import: importCommand,
    rebuild: rebuildCommand,
    export: exportCommand,
  };
  // Commands that need only the configuration, not the store: they start no application context.
  const standalone: Record<string, (config: AppConfig, args: string[]) => Promise<number>> = {
    token: tokenCommand,
    migrate: migrateCommand,
  };
  const run = commands[command];
  if (!run && !Object.hasOwn(standalone, command)) {
    process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig({ ...process.env, PROJECTIONS: 'false' });
  if (!run) return standalone[command](config, args);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: false,
    abortOnError: false,
  });
  try {
    return await run(app, args);
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError || error instanceof IncidentFileError
        ? error.message
        : `failed: ${(error as Error)?.message ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
  },
);
