import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '@app/event-store';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';
import { ApiClient } from '@app/testing';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../libs/event-store/src/contract/postgres.fixture';
import { describeKafka, uniqueTopics } from './kafka/broker';
import { distinctPositions, expectRelayed } from './kafka/feed-checks';
import { TopicReader } from './kafka/topic-reader';
import { ApiProcess, buildProject, localAdminToken } from './support/api-process';

const INCIDENTS = 6;
/** Facts each of the two writers records; each pauses halfway until the relay holder has been killed. */
const FACTS_PER_WRITER = 80;

/**
 * Three API processes on one PostgreSQL database, each with a data directory of its own and KAFKA_BROKERS set, so
 * each runs a relay in-process: exactly one of them publishes at a time (the one holding the advisory lock), the
 * others stand by. The holder is killed with SIGKILL in the middle of a write load; another takes over, and a
 * consumer reading the topics from the start finds every event of the log (no gap), duplicates only as copies with
 * the same ce_id, and each incident's events in version order.
 */
describePostgres('relays of several API replicas on one PostgreSQL database (e2e, real processes)', () => {
  describeKafka('one relay publishes at a time, and another takes over when it is killed', {}, (broker) => {
    const schema = freshSchemaName();
    const topics = uniqueTopics('replicas-relay');
    const dataDirs: string[] = [];
    const servers: ApiProcess[] = [];
    let build: { dir: string; apiEntry: string } | undefined;
    let reader: TopicReader | undefined;

    beforeAll(async () => {
      build = await buildProject('replicas-relay');
    }, 300_000);

    afterAll(async () => {
      await reader?.stop();
      await Promise.all(servers.map((server) => server.kill()));
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      if (build) rmSync(build.dir, { recursive: true, force: true });
      await dropSchema(schema);
    });

    async function replica(): Promise<{ server: ApiProcess; dataDir: string }> {
      const dataDir = mkdtempSync(join(tmpdir(), 'replica-relay-'));
      dataDirs.push(dataDir);
      const server = await ApiProcess.start(build!.apiEntry, dataDir, {
        EVENT_STORE: 'postgres',
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: broker().brokers.join(','),
        KAFKA_CLIENT_ID: topics.clientId,
        KAFKA_TOPIC_EVENTS: topics.events,
        KAFKA_TOPIC_STATUS_CHANGES: topics.statusChanges,
      });
      servers.push(server);
      return { server, dataDir };
    }

    /** Each live replica's relay role, as its /health/ready reports it. */
    async function roles(): Promise<{ server: ApiProcess; role: string | undefined }[]> {
      return Promise.all(
        servers
          .filter((server) => server.alive)
          .map(async (server) => {
            // A replica killed while it is being asked has no role any more.
            const health = (await fetch(`${server.baseUrl}/health/ready`).then(
              (response) => response.json(),
              () => ({}),
            )) as { checks?: { relay?: { role?: string } } };
            return { server, role: health.checks?.relay?.role };
          }),
      );
    }

    async function activeRelays(): Promise<ApiProcess[]> {
      return (await roles()).filter(({ role }) => role === 'active').map(({ server }) => server);
    }

    async function untilOneActive(what: string, timeoutMs = 60_000): Promise<ApiProcess> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const active = await activeRelays();
        expect(active.length).toBeLessThanOrEqual(1);
        if (active.length === 1) return active[0];
        if (Date.now() > deadline) throw new Error(`${what}: no relay active within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it('delivers every event with no gap and duplicates only as copies, across a SIGKILL of the publishing relay', async () => {
      const replicas = [await replica(), await replica(), await replica()];
      const holder = await untilOneActive('first relay');
      expect((await roles()).map(({ role }) => role).sort()).toEqual(['active', 'standby', 'standby']);
      reader = await TopicReader.start(broker().brokers, [topics.events, topics.statusChanges]);

      // Every replica verifies a token minted with the first one's key, through the shared public keys.
      const token = await localAdminToken(replicas[0].dataDir, 'relay-writer');
      const writers = replicas
        .filter(({ server }) => server !== holder)
        .map(({ server }) => new ApiClient(server.baseUrl, token));
      for (let n = 0; n < INCIDENTS; n += 1) {
        const opened = await writers[n % 2].post('/v1/incidents', {
          id: `relay-${n}`,
          title: `Relay ${n}`,
          category: 'other',
        });
        expect(opened.status).toBe(201);
      }

      let killed!: () => void;
      const holderKilled = new Promise<void>((resolve) => (killed = resolve));
      // Writer w writes to the incidents n with n % 2 === w, so each incident's status changes come in a known order.
      const load = writers.map(async (api, w) => {
        const investigating = new Set<string>();
        for (let i = 0; i < FACTS_PER_WRITER; i += 1) {
          if (i === FACTS_PER_WRITER / 2) await holderKilled;
          const incident = `relay-${((2 * i) % INCIDENTS) + w}`;
          if (i % 10 === 9) {
            const status = investigating.has(incident) ? 'contained' : 'investigating';
            if (status === 'investigating') investigating.add(incident);
            else investigating.delete(incident);
            expect((await api.post(`/v1/incidents/${incident}/status`, { status })).status).toBe(200);
          } else {
            const fact = { kind: 'other', occurredAt: '2023-06', summary: `Fact ${w}-${i}` };
            expect((await api.post(`/v1/incidents/${incident}/facts`, fact)).status).toBe(201);
          }
        }
      });
      // At most one relay is active at every look, all through the load and the takeover.
      let loading = true;
      const watching = (async () => {
        let looks = 0;
        while (loading) {
          expect((await activeRelays()).length).toBeLessThanOrEqual(1);
          looks += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return looks;
      })();

      try {
        const seen = () => distinctPositions(reader!.on(topics.events)).size;
        await reader.until(() => seen() >= INCIDENTS + 20, 'the first relay publishing the load', 120_000);
        await holder.kill();
        killed();
        await untilOneActive('a relay taking over after the SIGKILL');
        await Promise.all(load);
      } finally {
        killed();
        loading = false;
      }
      expect(await watching).toBeGreaterThan(0);

      const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
      let log: StoredEvent[];
      try {
        await store.awaitFinal(60_000); // none held back by a transaction another suite left open
        log = await store.readAll({ limit: 100_000 });
      } finally {
        await store.close();
      }
      expect(log).toHaveLength(INCIDENTS + 2 * FACTS_PER_WRITER);
      const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
      const seen = () => distinctPositions(reader!.on(topics.events)).size;
      await reader.until(
        () =>
          seen() === log.length && distinctPositions(reader!.on(topics.statusChanges)).size === statusChanges.length,
        'every event on the topics after the takeover',
        120_000,
      );

      expectRelayed((topic) => reader!.on(topic), topics, log);
      expect(await activeRelays()).toHaveLength(1);
    }, 300_000);
  });
});
