import {
  isScope,
  LocalIssuerError,
  MAX_LOCAL_TOKEN_TTL_SECONDS,
  mintLocalToken,
  parseDurationSeconds,
  SCOPES,
  type Scope,
} from '@app/auth';
import type { AppConfig } from '@app/config';

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
  const parsed = parseTokenArgs(args);
  if (typeof parsed === 'string') {
    output.stderr(`${parsed}\n\n${TOKEN_USAGE}`);
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

function parseTokenArgs(args: string[]): TokenArgs | string {
  const values = new Map<string, string>();
  let url = false;
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--url') {
      url = true;
      continue;
    }
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    if (!['--scopes', '--sub', '--ttl'].includes(flag)) return `unknown argument: ${args[i]}`;
    const value = inline ?? args[++i];
    if (value === undefined || value === '') return `${flag} needs a value`;
    values.set(flag, value);
  }
  const scopes = (values.get('--scopes') ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  if (scopes.length === 0) return '--scopes is required';
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) return `unknown scope: ${unknown.join(', ')}`;
  const sub = values.get('--sub');
  if (sub === undefined) return '--sub is required';
  if (sub.length > 200 || !/^[\x21-\x7e]+$/.test(sub)) return '--sub must be 1-200 visible ASCII characters';
  const ttl = values.get('--ttl') ?? '1h';
  const ttlSeconds = parseDurationSeconds(ttl);
  if (ttlSeconds === undefined) return `--ttl must be a duration such as 90s, 30m or 1h, got ${ttl}`;
  if (ttlSeconds > MAX_LOCAL_TOKEN_TTL_SECONDS) return `--ttl must be at most ${MAX_LOCAL_TOKEN_TTL_SECONDS / 3600}h`;
  return { scopes: [...new Set(scopes as Scope[])], sub, ttlSeconds, url };
}
