import { isAbsolute, resolve } from 'node:path';
import { ConfigError, SETTINGS } from './config.schema';

export interface AppConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  eventStore: 'sqlite' | 'postgres' | 'eventstoredb';
  databaseUrl?: string;
  eventStoreConnectionString?: string;
  readModelWaitMs: number;
  readyMaxLag: number;
  projections: boolean;
  kafka?: { brokers: string[]; clientId: string; topicEvents: string; topicStatusChanges: string };
  relay: boolean;
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
    databaseUrl: read(env, 'databaseUrl'),
    eventStoreConnectionString: read(env, 'eventStoreConnectionString'),
    readModelWaitMs: read(env, 'readModelWaitMs')!,
    readyMaxLag: read(env, 'readyMaxLag')!,
    projections: read(env, 'projections')!,
    relay: read(env, 'relay')!,
  };
  if (config.eventStore === 'postgres' && !config.databaseUrl) {
    throw new ConfigError('DATABASE_URL', 'must be set when EVENT_STORE=postgres');
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
