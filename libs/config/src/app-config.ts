import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, SETTINGS } from './config.schema';

export interface AuthConfig {
  /** False only with AUTH=off, which loadConfig accepts on a loopback HOST alone. */
  enabled: boolean;
  issuersFile?: string;
  audience: string;
  localIssuer: boolean;
  metricsPublic: boolean;
  docsPublic: boolean;
  /** Requests per minute per principal; 0 means no limit. */
  rateLimitPerMinute: number;
}

export interface AppConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  eventStore: 'sqlite' | 'postgres' | 'eventstoredb';
  readModelStore: 'sqlite' | 'postgres';
  databaseUrl?: string;
  databaseSchema: string;
  eventStoreConnectionString?: string;
  readModelWaitMs: number;
  readyMaxLag: number;
  projections: boolean;
  kafka?: { brokers: string[]; clientId: string; topicEvents: string; topicStatusChanges: string };
  relay: boolean;
  auth: AuthConfig;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

type Env = Record<string, string | undefined>;

function read<K extends keyof typeof SETTINGS>(
  env: Env,
  key: K,
): ReturnType<(typeof SETTINGS)[K]['parse']> | undefined {
  const setting = SETTINGS[key];
  const raw = env[setting.name];
  const value = raw === undefined || raw === '' ? setting.default : raw;
  return (value === undefined ? undefined : setting.parse(value)) as
    ReturnType<(typeof SETTINGS)[K]['parse']> | undefined;
}

/** Reads and validates the configuration once; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const dataDir = read(env, 'dataDir')!;
  const config: AppConfig = {
    host: read(env, 'host')!,
    port: read(env, 'port')!,
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(process.cwd(), dataDir),
    logLevel: read(env, 'logLevel')!,
    eventStore: read(env, 'eventStore')!,
    readModelStore: read(env, 'readModelStore') ?? (read(env, 'eventStore') === 'postgres' ? 'postgres' : 'sqlite'),
    databaseUrl: read(env, 'databaseUrl'),
    databaseSchema: read(env, 'databaseSchema')!,
    eventStoreConnectionString: read(env, 'eventStoreConnectionString'),
    readModelWaitMs: read(env, 'readModelWaitMs')!,
    readyMaxLag: read(env, 'readyMaxLag')!,
    projections: read(env, 'projections')!,
    relay: read(env, 'relay')!,
    auth: readAuth(env),
  };
  if (!config.auth.enabled && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      'AUTH',
      `off is accepted only when HOST is a loopback address (127.0.0.1, ::1 or localhost), got HOST=${config.host}`,
    );
  }
  if (config.auth.enabled && !config.auth.localIssuer && config.auth.issuersFile === undefined) {
    throw new ConfigError(
      'AUTH_ISSUERS_FILE',
      'must be set when AUTH_LOCAL_ISSUER=false, or no token could be accepted',
    );
  }
  if (config.eventStore === 'postgres' && !config.databaseUrl) {
    throw new ConfigError('DATABASE_URL', 'must be set when EVENT_STORE=postgres');
  }
  if (config.readModelStore === 'postgres' && !config.databaseUrl) {
    throw new ConfigError('DATABASE_URL', 'must be set when READ_MODEL_STORE=postgres');
  }
  if (config.eventStore === 'eventstoredb' && !config.eventStoreConnectionString) {
    throw new ConfigError('EVENTSTORE_CONNECTION_STRING', 'must be set when EVENT_STORE=eventstoredb');
  }
  const brokers = read(env, 'kafkaBrokers');
  if (brokers && brokers.length > 0) {
    config.kafka = {
      brokers,
      clientId: read(env, 'kafkaClientId')!,
      topicEvents: read(env, 'kafkaTopicEvents')!,
      topicStatusChanges: read(env, 'kafkaTopicStatusChanges')!,
    };
  }
  return config;
}

function readAuth(env: Env): AuthConfig {
  const issuersFile = read(env, 'authIssuersFile');
  const audience = read(env, 'authAudience')!;
  if (audience.trim() === '') throw new ConfigError('AUTH_AUDIENCE', 'must not be blank');
  return {
    enabled: read(env, 'auth') === 'on',
    ...(issuersFile !== undefined && {
      issuersFile: isAbsolute(issuersFile) ? issuersFile : resolve(process.cwd(), issuersFile),
    }),
    audience,
    localIssuer: read(env, 'authLocalIssuer')!,
    metricsPublic: read(env, 'metricsPublic')!,
    docsPublic: read(env, 'docsPublic')!,
    rateLimitPerMinute: read(env, 'rateLimitPerMinute')!,
  };
}

/** Loopback only: an address literal in 127.0.0.0/8 or ::1, or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}
