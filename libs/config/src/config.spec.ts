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
    [{ AUTH: 'maybe' }, 'AUTH'],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ METRICS_PUBLIC: 'sometimes' }, 'METRICS_PUBLIC'],
    [{ AUTH_LOCAL_ISSUER: 'false' }, 'AUTH_ISSUERS_FILE'],
    [{ DATA_DIR_ALLOW_SHARED: 'perhaps' }, 'DATA_DIR_ALLOW_SHARED'],
    [{ SSE_MAX_SESSIONS: '0' }, 'SSE_MAX_SESSIONS'],
    [{ SSE_MAX_SESSIONS_PER_PRINCIPAL: 'ten' }, 'SSE_MAX_SESSIONS_PER_PRINCIPAL'],
    [{ SSE_CLIENT_BUFFER_BYTES: '10' }, 'SSE_CLIENT_BUFFER_BYTES'],
    [{ SSE_TOKEN_RECHECK_MS: '5' }, 'SSE_TOKEN_RECHECK_MS'],
    [{ ANONYMOUS_RATE_LIMIT_PER_MINUTE: '-3' }, 'ANONYMOUS_RATE_LIMIT_PER_MINUTE'],
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

  it('turns authentication on by default, with the local issuer, open health, metrics and docs, 600 requests a minute (120 per address without a token)', () => {
    expect(loadConfig({}).auth).toEqual({
      enabled: true,
      audience: 'incident-timeline',
      localIssuer: true,
      metricsPublic: true,
      docsPublic: true,
      rateLimitPerMinute: 600,
      anonymousRateLimitPerMinute: 120,
    });
  });

  it('keeps DATA_DIR private and bounds the SSE feeds by default', () => {
    const config = loadConfig({});
    expect(config.dataDirAllowShared).toBe(false);
    expect(config.feeds).toEqual({
      maxSessions: 1000,
      maxSessionsPerPrincipal: 10,
      clientBufferBytes: 1048576,
      tokenRecheckMs: 30000,
    });
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])(
    'accepts AUTH=off on the loopback HOST %s',
    (host) => {
      expect(loadConfig({ AUTH: 'off', HOST: host }).auth.enabled).toBe(false);
    },
  );

  it.each(['0.0.0.0', '::', '10.0.0.5', 'example.org', '128.0.0.1'])('refuses AUTH=off on HOST %s', (host) => {
    expect(() => loadConfig({ AUTH: 'off', HOST: host })).toThrow(
      `Invalid configuration: AUTH off is accepted only when HOST is a loopback address (127.0.0.1, ::1 or localhost), got HOST=${host}`,
    );
  });

  it('resolves AUTH_ISSUERS_FILE against the working directory', () => {
    expect(loadConfig({ AUTH_ISSUERS_FILE: 'issuers.yaml' }).auth.issuersFile).toBe(resolve('issuers.yaml'));
  });
});
