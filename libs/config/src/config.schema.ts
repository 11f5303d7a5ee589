/**
 * Every environment variable the service reads, with its default and rule. The README's configuration table and the
 * docker-compose check are written against this list.
 */
export interface Setting<T> {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  parse(raw: string): T;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

function setting<T>(
  name: string,
  description: string,
  defaultValue: string | undefined,
  parse: (raw: string, name: string) => T,
): Setting<T> {
  return { name, description, default: defaultValue, parse: (raw) => parse(raw, name) };
}

const text = (raw: string) => raw;

const integer = (min: number, max: number) => (raw: string, name: string) => {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
};

const oneOf =
  <T extends string>(...allowed: T[]) =>
  (raw: string, name: string): T => {
    if (!(allowed as string[]).includes(raw))
      throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
    return raw as T;
  };

const bool = (raw: string, name: string): boolean => {
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
};

const list = (raw: string) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export const SETTINGS = {
  host: setting('HOST', 'Address the HTTP server binds to', '127.0.0.1', text),
  port: setting('PORT', 'HTTP port', '3000', integer(0, 65535)),
  dataDir: setting('DATA_DIR', 'Directory for the SQLite store, read models and local keys', './data', text),
  logLevel: setting(
    'LOG_LEVEL',
    'Lowest level logged: debug, info, warn, error',
    'info',
    oneOf('debug', 'info', 'warn', 'error'),
  ),
  eventStore: setting('EVENT_STORE', 'Event store adapter', 'sqlite', oneOf('sqlite', 'postgres', 'eventstoredb')),
  databaseUrl: setting('DATABASE_URL', 'PostgreSQL connection string (EVENT_STORE=postgres)', undefined, text),
  databaseSchema: setting('DATABASE_SCHEMA', 'PostgreSQL schema holding the events table', 'public', (raw, name) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw))
      throw new ConfigError(name, `must be a lower-case SQL identifier, got "${raw}"`);
    return raw;
  }),
  readModelStore: setting(
    'READ_MODEL_STORE',
    'Where read models live: sqlite (under DATA_DIR) or postgres (DATABASE_URL, shared by replicas); default postgres with EVENT_STORE=postgres, else sqlite',
    undefined,
    oneOf('sqlite', 'postgres'),
  ),
  eventStoreConnectionString: setting(
    'EVENTSTORE_CONNECTION_STRING',
    'EventStoreDB / KurrentDB connection string (EVENT_STORE=eventstoredb)',
    undefined,
    text,
  ),
  readModelWaitMs: setting(
    'READ_MODEL_WAIT_MS',
    'Longest wait for minPosition (read-your-writes)',
    '5000',
    integer(0, 60000),
  ),
  readyMaxLag: setting(
    'READY_MAX_LAG',
    'Projection lag (events) above which /health/ready fails',
    '10000',
    integer(0, 1e9),
  ),
  projections: setting('PROJECTIONS', 'Run the projection runner in this process', 'true', bool),
  kafkaBrokers: setting('KAFKA_BROKERS', 'Comma-separated Kafka brokers; when set, the relay runs', undefined, list),
  kafkaClientId: setting('KAFKA_CLIENT_ID', 'Kafka client id', 'incident-timeline', text),
  kafkaTopicEvents: setting('KAFKA_TOPIC_EVENTS', 'Topic receiving every event', 'incident-events', text),
  kafkaTopicStatusChanges: setting(
    'KAFKA_TOPIC_STATUS_CHANGES',
    'Topic receiving every status change',
    'incident-status-changes',
    text,
  ),
  relay: setting('RELAY', 'Run the Kafka relay inside the API process when KAFKA_BROKERS is set', 'true', bool),
  auth: setting(
    'AUTH',
    'Bearer-token authentication on /v1: on, or off (accepted only with a loopback HOST)',
    'on',
    oneOf('on', 'off'),
  ),
  authIssuersFile: setting(
    'AUTH_ISSUERS_FILE',
    'JSON or YAML file listing the trusted token issuers (iss, JWKS, audiences, algorithms)',
    undefined,
    text,
  ),
  authAudience: setting(
    'AUTH_AUDIENCE',
    'Audience of this service: put in local tokens, and accepted from issuers that list no audiences',
    'incident-timeline',
    text,
  ),
  authLocalIssuer: setting(
    'AUTH_LOCAL_ISSUER',
    'Trust the local issuer whose key pair lives under DATA_DIR/keys (created on first start)',
    'true',
    bool,
  ),
  metricsPublic: setting('METRICS_PUBLIC', 'Serve /metrics without a token (else incidents:admin)', 'true', bool),
  docsPublic: setting('DOCS_PUBLIC', 'Serve /docs without a token (else incidents:read)', 'true', bool),
  rateLimitPerMinute: setting(
    'RATE_LIMIT_PER_MINUTE',
    'Requests per minute per principal (iss and sub) before 429; 0 turns the limit off',
    '600',
    integer(0, 1_000_000),
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;
