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
  it('runs KurrentDB, Kafka, the API and the relay, each with a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'kafka', 'kurrentdb', 'relay']);
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

  it('builds one image for both app services, from files that exist', () => {
    expect(services.api.image).toBe(services.relay.image);
    const dockerfile: string = services.api.build.dockerfile_inline;
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap(([, sources]) => sources.split(' '));
    expect(copied).toContain('package-lock.json');
    expect(copied.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
