// Imported file by file: the library's index loads Nest, and a token should not wait for it.
import { parseDurationSeconds } from '@app/auth/duration';
import { LocalIssuerError, MAX_LOCAL_TOKEN_TTL_SECONDS, mintLocalToken } from '@app/auth/local-issuer';
import { isScope, SCOPES, type Scope } from '@app/auth/scopes';
import type { AppConfig } from '@app/config/app-config';
import { parseCommandArgs, stringOption, UsageError, type CliCommand, type OptionSpecs } from '../command-line';

export const TOKEN_USAGE = `usage: npm run -s token -- --scopes <scope,...> --sub <subject> [--ttl <duration>] [--url]

  --scopes   comma-separated: ${SCOPES.join(', ')}
  --sub      who the token speaks for, e.g. alice (recorded as the actor of every event it writes)
  --ttl      lifetime: 90s, 30m, 1h (default), up to ${MAX_LOCAL_TOKEN_TTL_SECONDS / 3600}h
  --url      print a link to the web page that signs in with the token: http://HOST:PORT/#token=<token>

Prints the token, and only the token, on stdout: TOKEN=$(npm run -s token -- --scopes incidents:read --sub alice)
With --url it prints the sign-in link instead; open it in a browser while the service runs.
`;

export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_OUTPUT: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

interface TokenArgs {
  scopes: Scope[];
  sub: string;
  ttlSeconds: number;
  url: boolean;
}

/**
 * The web page's address on this service's HOST and PORT, with the token in the fragment: a browser never sends the
 * fragment to the server, and the page moves it into session storage and out of the address bar.
 */
export function signInUrl(config: Pick<AppConfig, 'host' | 'port'>, token: string): string {
  const unspecified = config.host === '0.0.0.0' || config.host === '::';
  const host = unspecified ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}/#token=${token}`;
}

/**
 * `token --scopes ... --sub ... [--ttl ...]`: a bearer token signed by the local issuer (its key pair is created under
 * DATA_DIR/keys if the service has not made it yet). Stdout carries the token alone, so it can be captured; every
 * message goes to stderr.
 */
export async function tokenCommand(
  config: AppConfig,
  args: string[],
  output: CommandOutput = PROCESS_OUTPUT,
): Promise<number> {
  let parsed: TokenArgs;
  try {
    parsed = parseTokenArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.stderr(`${error.message}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  if (!config.auth.localIssuer) {
    output.stderr(
      'the local issuer is turned off (AUTH_LOCAL_ISSUER=false); get a token from your identity provider\n',
    );
    return 1;
  }
  if (!config.auth.enabled) output.stderr('note: AUTH=off, the service does not ask for tokens\n');
  try {
    const { url, ...claims } = parsed;
    const token = await mintLocalToken({ dataDir: config.dataDir, audience: config.auth.audience, ...claims });
    output.stdout(`${url ? signInUrl(config, token) : token}\n`);
    return 0;
  } catch (error) {
    if (error instanceof LocalIssuerError) {
      output.stderr(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const TOKEN_OPTIONS: OptionSpecs = {
  scopes: { type: 'string' },
  sub: { type: 'string' },
  ttl: { type: 'string' },
  url: { type: 'boolean' },
};

export const tokenCliCommand: CliCommand = {
  name: 'token',
  summary: 'print a bearer token signed by the local issuer (and nothing else on stdout)',
  usage: TOKEN_USAGE,
  options: TOKEN_OPTIONS,
  positionals: false,
  run: (args, config) => tokenCommand(config, args.raw),
};

function parseTokenArgs(args: string[]): TokenArgs {
  const parsed = parseCommandArgs(args, TOKEN_OPTIONS, false);
  const scopes = (stringOption(parsed, 'scopes') ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  if (scopes.length === 0) throw new UsageError('--scopes is required');
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw new UsageError(`unknown scope: ${unknown.join(', ')}`);
  const sub = stringOption(parsed, 'sub');
  if (sub === undefined) throw new UsageError('--sub is required');
  if (sub.length > 200 || !/^[\x21-\x7e]+$/.test(sub))
    throw new UsageError('--sub must be 1-200 visible ASCII characters');
  const ttl = stringOption(parsed, 'ttl') ?? '1h';
  const ttlSeconds = parseDurationSeconds(ttl);
  if (ttlSeconds === undefined) throw new UsageError(`--ttl must be a duration such as 90s, 30m or 1h, got ${ttl}`);
  if (ttlSeconds > MAX_LOCAL_TOKEN_TTL_SECONDS) {
    throw new UsageError(`--ttl must be at most ${MAX_LOCAL_TOKEN_TTL_SECONDS / 3600}h`);
  }
  return { scopes: [...new Set(scopes as Scope[])], sub, ttlSeconds, url: parsed.values.url === true };
}
