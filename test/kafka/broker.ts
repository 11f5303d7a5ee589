import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the Kafka suites get a broker, in this order:
 *   1. KAFKA_BROKERS is set: that broker (shared, never stopped here).
 *   2. Java (and Maven, or jars fetched before) are present: a private broker started with scripts/kafka/start.sh in
 *      its own directory under .cache/kafka-test/ on free ports, one per suite file, stopped in afterAll.
 *   3. Neither: the suite is skipped with a loud message, except under REQUIRE_KAFKA=1 (CI), where it fails.
 * A suite that stops and restarts the broker (`control: true`) always needs case 2: it must not stop a shared broker.
 */

const ROOT = resolve(__dirname, '..', '..');
const SCRIPTS = join(ROOT, 'scripts', 'kafka');
const SHARED_CACHE = join(ROOT, '.cache', 'kafka');

export interface KafkaBroker {
  brokers: string[];
  /** True when this helper started the broker, so it can stop and restart it. */
  readonly controllable: boolean;
  /** Controlled shutdown (scripts/kafka/stop.sh). */
  stop(): Promise<void>;
  /** Starts it again on the same ports, keeping its data (KAFKA_KEEP_DATA=1). */
  restart(): Promise<void>;
  /** Stops it if it was started here, and removes its directory. */
  dispose(): Promise<void>;
}

type Availability = { mode: 'external'; brokers: string[] } | { mode: 'script' } | { mode: 'missing'; reason: string };

function kafkaVersion(): string {
  const pom = readFileSync(join(SCRIPTS, 'pom.xml'), 'utf8');
  return /<kafka\.version>(.*?)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
}

function sharedJarsFetched(): boolean {
  return existsSync(join(SHARED_CACHE, 'libs', `.fetched-kafka-${kafkaVersion()}`));
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function availability(control: boolean): Availability {
  const external = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (external.length > 0 && !control) return { mode: 'external', brokers: external };
  if (onPath('java') && (onPath('mvn') || sharedJarsFetched())) return { mode: 'script' };
  return {
    mode: 'missing',
    reason: control
      ? 'this suite stops and restarts the broker, which needs Java 17 and Maven to run a private one'
      : 'set KAFKA_BROKERS, or install Java 17 and Maven so the suite can start scripts/kafka/start.sh',
  };
}

/**
 * `describe` for a suite that needs a real broker: `broker()` gives it inside hooks and tests. Skips (loudly) or,
 * under REQUIRE_KAFKA=1, fails when no broker can be had.
 */
export function describeKafka(
  title: string,
  options: { control?: boolean },
  body: (broker: () => KafkaBroker) => void,
): void {
  const found = availability(options.control ?? false);
  if (found.mode === 'missing') {
    if (process.env.REQUIRE_KAFKA === '1') {
      describe(title, () => {
        it('has a Kafka broker (REQUIRE_KAFKA=1)', () => {
          throw new Error(`No Kafka broker for "${title}": ${found.reason}.`);
        });
      });
      return;
    }
    const bar = '!'.repeat(100);
    console.warn(`${bar}\n!! SKIPPED: "${title}" needs a Kafka broker: ${found.reason}.\n${bar}`);
    describe.skip(`${title} [skipped: no Kafka broker]`, () => body(() => notAvailable(title)));
    return;
  }
  describe(title, () => {
    let broker: KafkaBroker | undefined;
    // Hooks of one block run in the order they are declared: the broker starts before the suite's own beforeAll
    // and stops after its afterAll.
    beforeAll(async () => {
      broker = found.mode === 'external' ? externalBroker(found.brokers) : await startPrivateBroker(title);
    }, 300_000);
    body(() => broker ?? notAvailable(title));
    afterAll(async () => {
      await broker?.dispose();
    }, 120_000);
  });
}

function notAvailable(title: string): never {
  throw new Error(`no broker for "${title}"`);
}

function externalBroker(brokers: string[]): KafkaBroker {
  const refuse = async () => {
    throw new Error('KAFKA_BROKERS names a shared broker; this suite may not stop it');
  };
  return { brokers, controllable: false, stop: refuse, restart: refuse, dispose: async () => undefined };
}

async function startPrivateBroker(title: string): Promise<KafkaBroker> {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 30);
  const home = join(ROOT, '.cache', 'kafka-test', `${slug}-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(home, { recursive: true });
  // Reuse the jars fetched once into the shared cache; without them start.sh fetches its own copy.
  if (sharedJarsFetched()) symlinkSync(join(SHARED_CACHE, 'libs'), join(home, 'libs'));
  const [port, controllerPort] = await freePorts(2);
  const env = {
    ...process.env,
    KAFKA_HOME_DIR: home,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  let running = false;
  const start = async (keepData: boolean) => {
    const output = await script('start.sh', [], { ...env, KAFKA_KEEP_DATA: keepData ? '1' : '0' });
    const line = output.trim().split('\n').pop() ?? '';
    if (!line.startsWith('KAFKA_BROKERS=')) throw new Error(`start.sh printed no KAFKA_BROKERS= line:\n${output}`);
    running = true;
  };
  const stop = async () => {
    await script('stop.sh', [], env);
    running = false;
  };
  await start(false);
  return {
    brokers: [`127.0.0.1:${port}`],
    controllable: true,
    stop,
    restart: () => start(true),
    dispose: async () => {
      if (running) await stop();
      rmSync(home, { recursive: true, force: true });
      // The parent goes too once the last suite is done with it (rmdir refuses while others still use it).
      rmdirSafe(dirname(home));
    },
  };
}

function rmdirSafe(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty: another suite's broker still lives there.
  }
}

function script(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(join(SCRIPTS, name), args, { env, cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/kafka/${name} failed: ${error.message}\n${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/** Ports nothing listens on right now, all distinct: bind port 0 several times at once, then release them. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Topic names of their own for each suite run, so suites on a shared broker never read each other's messages. */
export function uniqueTopics(prefix: string): { events: string; statusChanges: string; clientId: string } {
  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return {
    events: `${prefix}-incident-events-${run}`,
    statusChanges: `${prefix}-incident-status-changes-${run}`,
    clientId: `${prefix}-${run}`,
  };
}
