import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EVENT_STORE, type EventStore, type StoredEvent } from '@app/event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { describeKafka, uniqueTopics } from './kafka/broker';
import { distinctPositions, expectRelayed } from './kafka/feed-checks';
import { TopicReader } from './kafka/topic-reader';

/**
 * The broker is stopped while the relay (inside the API process) publishes, events keep coming while it is down, and
 * it is started again on the same data: the relay reports unhealthy while the broker is away, recovers by itself, and
 * a consumer reading from the start finds every event, in per-incident order.
 */
const INCIDENTS = 20;

describeKafka('Kafka broker stopped and restarted mid-stream (e2e, real broker)', { control: true }, (broker) => {
  let app: TestApp;
  let api: ApiClient;
  let store: EventStore;
  let reader: TopicReader | undefined;
  const topics = uniqueTopics('restart');
  const versions = Array.from({ length: INCIDENTS }, () => -1);

  beforeAll(async () => {
    app = await startTestApp({
      env: {
        KAFKA_BROKERS: broker().brokers.join(','),
        KAFKA_CLIENT_ID: topics.clientId,
        KAFKA_TOPIC_EVENTS: topics.events,
        KAFKA_TOPIC_STATUS_CHANGES: topics.statusChanges,
        // The events appended here are shaped for the relay, not for the incident projection; and this suite is about
        // the broker, so it keeps a store of its own whatever EVENT_STORE the run uses.
        PROJECTIONS: 'false',
        EVENT_STORE: 'sqlite',
      },
    });
    api = new ApiClient(app.baseUrl, app.adminToken);
    store = app.app.get<EventStore>(EVENT_STORE);
  });

  afterAll(async () => {
    await reader?.stop();
    await app?.close();
  });

  /** Appends `count` events (status changes every third one) across the incidents, 1 to 3 per append. */
  async function append(count: number): Promise<void> {
    for (let written = 0; written < count;) {
      const n = Math.floor(Math.random() * INCIDENTS);
      const batch = Math.min(1 + Math.floor(Math.random() * 3), count - written);
      const from = versions[n] + 1;
      await store.append(
        `incident-restart-${n}`,
        Array.from({ length: batch }, (_, index) => ({
          eventId: randomUUID(),
          type:
            from + index === 0 ? 'IncidentOpened' : (from + index) % 3 === 0 ? 'IncidentStatusChanged' : 'FactRecorded',
          data: { n, version: from + index },
          metadata: { schemaVersion: 1, correlationId: randomUUID() },
        })),
        from === 0 ? 'no-stream' : from - 1,
      );
      versions[n] = from + batch - 1;
      written += batch;
      await yieldToLoop();
    }
  }

  async function readiness(condition: (body: any, status: number) => boolean, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < deadline) {
      last = await api.get('/health/ready');
      if (condition(last.body, last.status)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms; last ${last?.status} ${JSON.stringify(last?.body)}`);
  }

  it('loses nothing, and reports the relay unhealthy while the broker is down', async () => {
    await readiness((body, status) => status === 200 && body.checks.relay?.role === 'active', 'relay publishing');

    // Stop the broker while the relay is busy with a stream of appends that goes on during the shutdown.
    const appending = append(1500);
    await readiness((body) => body.checks.relay.position >= 200, 'the relay has published part of the stream');
    await broker().stop();
    await appending;

    const down = await readiness(
      (body, status) => status === 503 && body.checks.relay.ok === false,
      'readiness failing while the broker is down',
    );
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body.checks.relay).toMatchObject({ ok: false, role: 'active', brokerReachable: false });
    expect(down.body.checks.relay.detail).toMatch(/broker/i);
    const metrics = await api.get('/metrics');
    expect(metrics.body).toMatch(/^relay_lag_events [1-9]\d*$/m);

    await append(500);
    await broker().restart();
    await readiness(
      (body, status) => status === 200 && body.checks.relay.ok === true && body.checks.relay.lag === 0,
      'relay caught up after the restart',
      90_000,
    );

    const log: StoredEvent[] = await store.readAll({ limit: 1_000_000 });
    expect(log).toHaveLength(2000);
    const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
    reader = await TopicReader.start(broker().brokers, [topics.events, topics.statusChanges]);
    await reader.until(
      () =>
        distinctPositions(reader!.on(topics.events)).size === log.length &&
        distinctPositions(reader!.on(topics.statusChanges)).size === statusChanges.length,
      'every event after the broker restart',
    );
    expectRelayed((topic) => reader!.on(topic), topics, log);
  }, 240_000);
});
