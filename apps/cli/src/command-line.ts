import type { INestApplicationContext } from '@nestjs/common';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AppConfig } from '@app/config/app-config';

/** A mistake in how a command was called: its message and the usage go to stderr, and the exit code is 2. */
export class UsageError extends Error {}

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** The arguments as given, for commands that parse them again with their own messages. */
  raw: string[];
}

export interface CliCommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The whole `--help` text. */
  usage: string;
  options: OptionSpecs;
  positionals: boolean;
  run(args: ParsedArgs, config: AppConfig): Promise<number>;
}

/** Node's parse errors (tested by code, not class: under a test runner they come from another realm). */
function isParseArgsError(error: unknown): error is Error & { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')
  );
}

/** Node's own argument parser (`--flag value` and `--flag=value`), with `--help`/`-h` on every command. */
export function parseCommandArgs(args: string[], options: OptionSpecs, positionals: boolean): ParsedArgs {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals,
      strict: true,
    });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, raw: args };
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    const option = /'([^']+)'/.exec(error.message)?.[1];
    if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown argument: ${option ?? ''}`);
    if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`unexpected argument: ${option ?? ''}`);
    }
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`${option?.split(/[ ,]/)[0] ?? 'an option'} needs a value`);
    }
    throw new UsageError(error.message);
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === '') throw new UsageError(`--${name} needs a value`);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Runs `work` inside the application without HTTP. Nest is loaded only here, so commands that need no store (`token`,
 * `--help`) start fast.
 */
export async function withAppContext<T>(
  config: AppConfig,
  work: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  await import('reflect-metadata');
  const [{ NestFactory }, { CliModule }] = await Promise.all([import('@nestjs/core'), import('./cli.module')]);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: false,
    abortOnError: false,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
