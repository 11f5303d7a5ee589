import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, SETTINGS } from '@app/config';

/**
 * docker-compose.yml is not run here (no Docker engine), so it is checked against the code instead: the services,
 * their health checks and start order, and that every variable the app services get is one the configuration schema
 * knows and accepts, with addresses that point at the right service and port.
 */
const ROOT = join(__dirname, '..');
// Compose applies YAML merge keys (`<<: *app`); so does this parse.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const asyncapi = parse(readFileSync(join(ROOT, 'docs', 'asyncapi.yaml'), 'utf8'));
const services = compose.services as Record<string, any>;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const KNOWN = new Set(Object.values(SETTINGS).map((setting) => setting.name));

function environment(service: string): Record<string, string> {
  const env = services[service].environment as Record<string, unknown>;
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)]));
}

/** Published ports as { host, hostPort, containerPort } from `ip:host:container` or `host:container`. */
function ports(service: string) {
  return (services[service].ports as string[]).map((entry) => {
    const parts = String(entry).split(':');
    const containerPort = Number(parts.pop());
    const hostPort = Number(parts.pop());
    return { host: parts.pop() ?? '0.0.0.0', hostPort, containerPort };
  });
}

function advertisedListeners(): Map<string, string> {
  const listeners = environment('kafka').KAFKA_ADVERTISED_LISTENERS.split(',');
  return new Map(listeners.map((listener) => [listener.split('://')[1], listener.split('://')[0]]));
}

describe('docker-compose.yml', () => {
  it('runs KurrentDB, Kafka, the API and the relay (and, in the postgres profile, PostgreSQL, two API replicas and two relays), each with a health check', () => {
    const defaults = Object.keys(services).filter((name) => services[name].profiles === undefined);
    expect(defaults.sort()).toEqual(['api', 'kafka', 'kurrentdb', 'relay']);
    expect(
      Object.keys(services)
        .filter((name) => services[name].profiles?.includes('postgres'))
        .sort(),
    ).toEqual(['api-pg-1', 'api-pg-2', 'postgres', 'relay-pg-1', 'relay-pg-2']);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, test: Array.isArray(service.healthcheck?.test) }).toEqual({ name, test: true });
    }
  });

  it('labels KurrentDB as an insecure development-only single node, reachable from loopback only', () => {
    const env = environment('kurrentdb');
    expect(env.KURRENTDB_INSECURE).toBe('true');
    expect(env.KURRENTDB_CLUSTER_SIZE).toBe('1');
    expect(services.kurrentdb.labels['org.incident-timeline.warning']).toMatch(/insecure.*development only/i);
    for (const port of ports('kurrentdb')) expect(port.host).toBe('127.0.0.1');
  });

  it('runs Kafka in KRaft mode, without topic auto-creation, with a listener for the host', () => {
    const env = environment('kafka');
    expect(env.KAFKA_PROCESS_ROLES.split(',').sort()).toEqual(['broker', 'controller']);
    expect(Object.keys(env).some((name) => name.includes('ZOOKEEPER'))).toBe(false);
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    const hostListener = [...advertisedListeners()].find(([address]) => address.startsWith('localhost:'));
    expect(hostListener).toBeDefined();
    const hostPort = Number(hostListener![0].split(':')[1]);
    expect(ports('kafka')).toContainEqual({ host: '127.0.0.1', hostPort, containerPort: hostPort });
    // The AsyncAPI document names the same address for compose users.
    expect(asyncapi.servers.compose.host).toBe(hostListener![0]);
  });

  for (const service of ['api', 'relay']) {
    describe(`${service} service`, () => {
      it('sets only variables of the configuration schema, and values it accepts', () => {
        const env = environment(service);
        expect(Object.keys(env).filter((name) => !KNOWN.has(name))).toEqual([]);
        expect(() => loadConfig(env)).not.toThrow();
      });

      it('listens on all interfaces inside the container, on the port it publishes, with DATA_DIR on a volume', () => {
        const env = environment(service);
        expect(env.HOST).toBe('0.0.0.0');
        expect(ports(service).map((port) => port.containerPort)).toEqual([Number(env.PORT)]);
        expect(ports(service).every((port) => port.host === '127.0.0.1')).toBe(true);
        const mounts = (services[service].volumes as string[]).map((volume) => volume.split(':')[1]);
        expect(mounts).toContain(env.DATA_DIR);
        expect(JSON.stringify(services[service].healthcheck.test)).toContain(`127.0.0.1:${env.PORT}/health/ready`);
      });

      it('reaches KurrentDB by its service name and node port, without TLS as the node is insecure', () => {
        const config = loadConfig(environment(service));
        expect(config.eventStore).toBe('eventstoredb');
        const url = new URL(config.eventStoreConnectionString!);
        expect(url.protocol).toBe('esdb:');
        expect(url.hostname).toBe('kurrentdb');
        expect(url.port).toBe(environment('kurrentdb').KURRENTDB_NODE_PORT);
        expect(url.searchParams.get('tls')).toBe('false');
        expect(services[service].depends_on.kurrentdb.condition).toBe('service_healthy');
      });
    });
  }

  describe('postgres profile', () => {
    const replicas = ['api-pg-1', 'api-pg-2'];

    it('runs two API replicas on one PostgreSQL database, with read models there too, on distinct host ports', () => {
      const hostPorts = replicas.flatMap((name) => ports(name).map((port) => port.hostPort));
      expect(new Set(hostPorts).size).toBe(2);
      for (const name of replicas) {
        const env = environment(name);
        expect(Object.keys(env).filter((variable) => !KNOWN.has(variable))).toEqual([]);
        const config = loadConfig(env);
        expect(config.eventStore).toBe('postgres');
        expect(config.readModelStore).toBe('postgres');
        const url = new URL(config.databaseUrl!);
        expect(url.hostname).toBe('postgres');
        expect(url.pathname).toBe(`/${environment('postgres').POSTGRES_DB}`);
        expect(url.username).toBe(environment('postgres').POSTGRES_USER);
        expect(services[name].depends_on.postgres.condition).toBe('service_healthy');
        expect(ports(name).every((port) => port.host === '127.0.0.1')).toBe(true);
      }
      expect(services['api-pg-1'].volumes).not.toEqual(services['api-pg-2'].volumes);
    });

    it('runs two relays that share their state through that database, on topics of their own', () => {
      const relays = ['relay-pg-1', 'relay-pg-2'];
      const hostPorts = relays.flatMap((name) => ports(name).map((port) => port.hostPort));
      expect(new Set(hostPorts).size).toBe(2);
      const listeners = advertisedListeners();
      const kurrentTopics = loadConfig(environment('relay')).kafka!;
      for (const name of relays) {
        const env = environment(name);
        expect(Object.keys(env).filter((variable) => !KNOWN.has(variable))).toEqual([]);
        expect(services[name].command).toEqual(['node', 'dist/apps/relay/src/main.js']);
        const config = loadConfig(env);
        expect(config.eventStore).toBe('postgres');
        expect(config.databaseUrl).toBe(environment('api-pg-1').DATABASE_URL);
        expect(config.kafka).toBeDefined();
        for (const broker of config.kafka!.brokers) expect(listeners.get(broker)).toBe('INTERNAL');
        expect([config.kafka!.topicEvents, config.kafka!.topicStatusChanges]).not.toContain(kurrentTopics.topicEvents);
        expect([config.kafka!.topicEvents, config.kafka!.topicStatusChanges]).not.toContain(
          kurrentTopics.topicStatusChanges,
        );
        expect(ports(name).map((port) => port.containerPort)).toEqual([Number(env.PORT)]);
        expect(ports(name).every((port) => port.host === '127.0.0.1')).toBe(true);
        expect(JSON.stringify(services[name].healthcheck.test)).toContain(`127.0.0.1:${env.PORT}/health/ready`);
        expect(services[name].depends_on.postgres.condition).toBe('service_healthy');
        expect(services[name].depends_on.kafka.condition).toBe('service_healthy');
      }
      expect(environment('relay-pg-1')).toEqual(environment('relay-pg-2'));
    });
  });

  it('runs the relay in its own service, publishing to the advertised internal listener and the documented topics', () => {
    expect(services.relay.command).toEqual(['node', 'dist/apps/relay/src/main.js']);
    const config = loadConfig(environment('relay'));
    expect(config.kafka).toBeDefined();
    const listeners = advertisedListeners();
    for (const broker of config.kafka!.brokers) expect(listeners.get(broker)).toBe('INTERNAL');
    expect(config.kafka!.topicEvents).toBe(asyncapi.channels.incidentEvents.address);
    expect(config.kafka!.topicStatusChanges).toBe(asyncapi.channels.incidentStatusChanges.address);
    expect(services.relay.depends_on.kafka.condition).toBe('service_healthy');
  });

  it('keeps the relay out of the API process, so API replicas do not compete for the lease', () => {
    const config = loadConfig(environment('api'));
    expect(config.relay === false || config.kafka === undefined).toBe(true);
    expect(services.api.command).toEqual(['node', 'dist/apps/api/src/main.js']);
  });

  it('builds one image for both app services, from the Dockerfile, from files that exist', () => {
    expect(services.api.image).toBe(services.relay.image);
    expect(services.api.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap(([, sources]) => sources.split(' '));
    expect(copied).toContain('package-lock.json');
    expect(copied.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile
    .split(/^(?=FROM )/m)
    .filter((stage) => stage.startsWith('FROM '))
    .map((text) => ({ text, name: /^FROM \S+ AS (\S+)/.exec(text)?.[1] }));
  const runtime = stages[stages.length - 1];
  const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];

  it('is multi-stage, on Node 22 LTS while the package still supports Node 20.19 (what CI runs)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(nodeImage).toMatch(/^node:22[.-]/);
    for (const stage of stages) expect(stage.text).toMatch(/^FROM \$\{NODE_IMAGE\}/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=20.19');
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('22');
  });

  it('runs as an unprivileged user, with DATA_DIR owned by it', () => {
    const users = [...runtime.text.matchAll(/^USER (\S+)$/gm)].map(([, user]) => user);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users[users.length - 1]);
    expect(runtime.text).toMatch(/chown node:node \/data/);
  });

  it('ships production dependencies and dist/ only: no dev dependencies, no sources, no bench/', () => {
    const fromStages = [...runtime.text.matchAll(/^COPY --from=(\S+) (\S+) (\S+)$/gm)].map(([, stage, source]) => ({
      stage,
      source,
    }));
    const nodeModules = fromStages.find((copy) => copy.source.endsWith('node_modules'));
    const depsStage = stages.find((stage) => stage.name === nodeModules?.stage);
    expect(depsStage?.text).toMatch(/npm ci --omit=dev/);
    expect(fromStages.map((copy) => copy.source).sort()).toEqual(['/app/dist', '/app/node_modules']);
    expect(runtime.text).not.toMatch(/^COPY (?!--from)(?!package\.json).*$/m);
    expect(dockerfile.replace(/^#.*$/gm, '')).not.toMatch(/\bbench\b/);
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['bench', 'node_modules', 'dist', 'data', 'test']),
    );
  });
});
