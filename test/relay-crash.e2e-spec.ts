import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SqliteEventStore, type EventStore, type StoredEvent } from '@app/event-store';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../libs/event-store/src/contract/postgres.fixture';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';
import { describeKafka, uniqueTopics } from './kafka/broker';
import { distinctPositions, expectRelayed } from './kafka/feed-checks';
import { buildRelay, RelayProcess } from './kafka/relay-process';
import { TopicReader } from './kafka/topic-reader';

/**
 * The relay process is killed with SIGKILL at ten random points while 5,000 events are appended across 50 incidents,
 * and restarted each time on the same DATA_DIR. A consumer reading from the start must see every event (no gap by
 * position); duplicates are allowed only as exact copies with the same ce_id; after de-duplication each incident's
 * messages are in version order. The log lives in the store the run is about: SQLite by default, a PostgreSQL schema
 * of its own under EVENT_STORE=postgres (the relay then reads it through the PostgreSQL adapter, as in production).
 */
const INCIDENTS = 50;
const EVENTS_PER_INCIDENT = 100;
const TOTAL = INCIDENTS * EVENTS_PER_INCIDENT;
const KILLS = 10;
const ON_POSTGRES = process.env.EVENT_STORE === 'postgres';
const TITLE = `relay killed with SIGKILL mid-stream on ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'} (e2e, real process)`;

describeKafka(TITLE, {}, (broker) => {
  let build: { entry: string; dir: string };
  let dataDir: string;
  let store: EventStore;
  /** Where the relay finds the log: its own schema on PostgreSQL, DATA_DIR/events.db on SQLite. */
  let storeEnv: Record<string, string>;
  let reader: TopicReader | undefined;
  const relays: RelayProcess[] = [];
  const topics = uniqueTopics('crash');

  beforeAll(async () => {
    build = await buildRelay();
    dataDir = mkdtempSync(join(tmpdir(), 'relay-crash-'));
    if (ON_POSTGRES) {
      const schema = freshSchemaName();
      store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
      storeEnv = { EVENT_STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
    } else {
      store = new SqliteEventStore({ filename: join(dataDir, 'events.db') });
      storeEnv = { EVENT_STORE: 'sqlite' };
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.kill()));
    await reader?.stop();
    await store?.close();
    if (store instanceof PostgresEventStore) await dropSchema(store.schema);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (build) rmSync(build.dir, { recursive: true, force: true });
  });

  async function startRelay(): Promise<RelayProcess> {
    const relay = await RelayProcess.spawn(build.entry, {
      ...storeEnv,
      DATA_DIR: dataDir,
      KAFKA_BROKERS: broker().brokers.join(','),
      KAFKA_CLIENT_ID: topics.clientId,
      KAFKA_TOPIC_EVENTS: topics.events,
      KAFKA_TOPIC_STATUS_CHANGES: topics.statusChanges,
    });
    relays.push(relay);
    return relay;
  }

  /**
   * 50 incidents of 100 events, appended in random interleaving, 1 to 5 events per append. The writer stays at most
   * `ahead` events in front of what the consumer has seen, so appending goes on through all the kills.
   */
  async function appendAll(seen: () => number, ahead: number): Promise<void> {
    const next = Array.from({ length: INCIDENTS }, () => 0);
    const pending = Array.from({ length: INCIDENTS }, (_, n) => n);
    // Counted, not read from the head position: positions need not be dense (PostgreSQL's are not).
    let appended = 0;
    while (pending.length > 0) {
      const slot = Math.floor(Math.random() * pending.length);
      const n = pending[slot];
      const from = next[n];
      const count = Math.min(1 + Math.floor(Math.random() * 5), EVENTS_PER_INCIDENT - from);
      await store.append(
        `incident-crash-${n}`,
        Array.from({ length: count }, (_, index) => eventAt(n, from + index)),
        from === 0 ? 'no-stream' : from - 1,
      );
      next[n] = from + count;
      appended += count;
      if (next[n] === EVENTS_PER_INCIDENT) pending.splice(slot, 1);
      const written = appended;
      if (written - seen() > ahead)
        await reader!.until(() => written - seen() <= ahead, 'the relay to catch up', 120_000);
      await yieldToLoop();
    }
  }

  it('delivers every event with no gap, duplicates only as copies, each incident in version order', async () => {
    let relay = await startRelay();
    // The relay creates the topics when it starts; the reader subscribes once they exist.
    await relay.until((health) => health.status === 200 && health.body.checks.relay.role === 'active', 'relay up');
    reader = await TopicReader.start(broker().brokers, [topics.events, topics.statusChanges]);

    const seen = () => distinctPositions(reader!.on(topics.events)).size;
    const appending = appendAll(seen, 1000);
    const thresholds = Array.from({ length: KILLS }, () => 250 + Math.floor(Math.random() * (TOTAL - 500))).sort(
      (a, b) => a - b,
    );
    for (const threshold of thresholds) {
      // Each kill lands on a relay that has started publishing: it holds the lease and its producer is connected.
      await relay.until((health) => health.body.checks?.relay?.role === 'active', 'the restarted relay publishes');
      await reader.until(() => seen() >= threshold, `relay progress to ${threshold} events (kills at ${thresholds})`);
      const { signal } = await relay.kill('SIGKILL');
      expect(signal).toBe('SIGKILL');
      relay = await startRelay();
    }
    await appending;

    await store.awaitFinal?.(60_000); // none held back by a transaction another suite left open (PostgreSQL)
    const log: StoredEvent[] = await store.readAll({ limit: TOTAL + 1 });
    expect(log).toHaveLength(TOTAL);
    const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
    await reader.until(
      () => seen() === TOTAL && distinctPositions(reader!.on(topics.statusChanges)).size === statusChanges.length,
      `every event after ${KILLS} kills at ${thresholds}`,
      120_000,
    );
    await relay.until((health) => health.status === 200 && health.body.checks.relay.lag === 0, 'relay caught up');

    expectRelayed((topic) => reader!.on(topic), topics, log);

    // A clean stop releases the lease and exits 0.
    expect(await relay.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 300_000);
});

function eventAt(incident: number, version: number) {
  const metadata = { schemaVersion: 1, correlationId: randomUUID(), actor: { iss: 'crash-test', sub: 'writer' } };
  if (version === 0) {
    return {
      eventId: randomUUID(),
      type: 'IncidentOpened',
      data: {
        id: `crash-${incident}`,
        title: `Crash ${incident}`,
        category: 'other',
        summary: '',
        victims: [],
        threatActors: [],
        status: 'detected',
        effectiveAt: '2024-01-01T00:00:00.000Z',
      },
      metadata,
    };
  }
  if (version % 4 === 0) {
    const to = version % 8 === 0 ? 'contained' : 'investigating';
    return {
      eventId: randomUUID(),
      type: 'IncidentStatusChanged',
      data: {
        from: version === 4 ? 'detected' : to === 'contained' ? 'investigating' : 'contained',
        to,
        effectiveAt: '2024-01-01T00:00:00.000Z',
      },
      metadata,
    };
  }
  return {
    eventId: randomUUID(),
    type: 'FactRecorded',
    data: {
      factId: randomUUID(),
      kind: 'other',
      occurredAt: '2024',
      summary: `fact ${version} of incident ${incident}`,
      confidence: 'likely',
      sources: [],
    },
    metadata,
  };
}
