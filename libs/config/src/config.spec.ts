import { resolve } from 'node:path';
import { loadConfig } from './app-config';

describe('configuration', () => {
  it('runs on embedded defaults with no variables set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, eventStore: 'sqlite', dataDir: resolve('data') });
    expect(config.kafka).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ EVENT_STORE: 'mysql' }, 'EVENT_STORE'],
    [{ EVENT_STORE: 'postgres' }, 'DATABASE_URL'],
    [{ EVENT_STORE: 'eventstoredb' }, 'EVENTSTORE_CONNECTION_STRING'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PROJECTIONS: 'maybe' }, 'PROJECTIONS'],
  ])('refuses %j with a message naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('reads Kafka settings only when brokers are given', () => {
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094' }).kafka).toEqual({
      brokers: ['127.0.0.1:9092', '127.0.0.1:9094'],
      clientId: 'incident-timeline',
      topicEvents: 'incident-events',
      topicStatusChanges: 'incident-status-changes',
    });
  });
});
