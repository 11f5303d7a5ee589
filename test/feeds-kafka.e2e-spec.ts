import { EVENT_STORE, type EventStore, type StoredEvent } from '@app/event-store';
import { KafkaPublisher, relayTransactionalId, type FeedMessage } from '@app/feeds';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { describeKafka, uniqueTopics } from './kafka/broker';
import { expectMessageOf, expectPerIncidentOrder, expectSamePositions } from './kafka/feed-checks';
import { TopicReader } from './kafka/topic-reader';

/**
 * The relay inside the API process, against a real broker: what is done over HTTP arrives on the topics once (no
 * crash here, so no duplicates), keyed by incident, with CloudEvents headers and the event's data, in per-incident
 * order; lag is on /metrics and /health/ready; and a stale producer with the relay's transactional id is fenced.
 */
describeKafka('Kafka feeds (e2e, real broker)', {}, (broker) => {
  let app: TestApp;
  let api: ApiClient;
  let store: EventStore;
  let reader: TopicReader | undefined;
  const topics = uniqueTopics('feeds');

  beforeAll(async () => {
    app = await startTestApp({
      env: {
        KAFKA_BROKERS: broker().brokers.join(','),
        KAFKA_CLIENT_ID: topics.clientId,
        KAFKA_TOPIC_EVENTS: topics.events,
        KAFKA_TOPIC_STATUS_CHANGES: topics.statusChanges,
      },
    });
    api = new ApiClient(app.baseUrl, app.adminToken);
    store = app.app.get<EventStore>(EVENT_STORE);
  });

  afterAll(async () => {
    await reader?.stop();
    await app?.close();
  });

  /** Polls /health/ready until the relay reports no lag. */
  async function relayCaughtUp(timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < deadline) {
      last = await api.get('/health/ready');
      if (last.status === 200 && last.body.checks.relay?.lag === 0) return last.body.checks.relay;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`relay did not catch up: ${JSON.stringify(last?.body)}`);
  }

  /** This suite's events: its incidents are all named kafka-*, so a store shared with other writers changes nothing. */
  async function ownLog(): Promise<StoredEvent[]> {
    return (await store.readAll({ limit: 1_000_000 })).filter((event) => event.streamId.startsWith('incident-kafka-'));
  }

  const own = (topic: string) => reader!.on(topic).filter((message) => message.key.startsWith('kafka-'));

  it('publishes every status change made over HTTP once, and every event, keyed and in per-incident order', async () => {
    const transitions = ['investigating', 'contained', 'investigating', 'resolved', 'investigating', 'contained'];
    await Promise.all(
      Array.from({ length: 8 }, async (_, n) => {
        const id = `kafka-http-${n}`;
        expect((await api.post('/v1/incidents', { id, title: `Kafka ${n}`, category: 'espionage' })).status).toBe(201);
        for (const [step, status] of transitions.entries()) {
          if (step % 2 === 0) {
            const fact = await api.post(`/v1/incidents/${id}/facts`, {
              kind: 'detection',
              occurredAt: '2023-06-16',
              summary: `step ${step}`,
            });
            expect(fact.status).toBe(201);
          }
          const changed = await api.post(`/v1/incidents/${id}/status`, { status, reason: `step ${step}` });
          expect(changed.status).toBe(200);
        }
      }),
    );
    const relay = await relayCaughtUp();
    expect(relay).toMatchObject({ ok: true, role: 'active', brokerReachable: true });

    const log = await ownLog();
    const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
    expect(statusChanges).toHaveLength(8 * transitions.length);
    reader = await TopicReader.start(broker().brokers, [topics.events, topics.statusChanges]);
    await reader.until(
      () => own(topics.statusChanges).length >= statusChanges.length && own(topics.events).length >= log.length,
      'every event on both topics',
    );

    for (const [topic, expected] of [
      [topics.statusChanges, statusChanges],
      [topics.events, log],
    ] as const) {
      const messages = own(topic);
      expect(messages).toHaveLength(expected.length);
      expectSamePositions(messages, expected);
      expectPerIncidentOrder(messages);
      const byPosition = new Map(expected.map((event) => [event.position.toString(), event]));
      for (const message of messages) expectMessageOf(message, byPosition.get(message.headers.ce_position)!);
    }
    // One partition per incident key: all of an incident's messages are in one partition.
    const events = own(topics.events);
    for (const id of new Set(events.map((message) => message.key))) {
      expect(new Set(events.filter((message) => message.key === id).map((message) => message.partition)).size).toBe(1);
    }
  });

  it('shows relay lag and position on /metrics and a relay check in /health/ready', async () => {
    await relayCaughtUp();
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    const head = await store.headPosition();
    expect(metrics.body).toMatch(/^relay_lag_events 0$/m);
    expect(metrics.body).toMatch(new RegExp(`^relay_checkpoint_position ${head}$`, 'm'));
    expect(metrics.body).toMatch(/^relay_active 1$/m);
    const ready = await api.get('/health/ready');
    expect(ready.body.checks.relay).toEqual({
      ok: true,
      role: 'active',
      position: Number(head),
      lag: 0,
      brokerReachable: true,
    });
  });

  it('fences a stale producer with the same transactional id: only the relay that holds the lease publishes', async () => {
    const kafka = app.config.kafka!;
    // A zombie: a producer of a relay that lost its lease but does not know it yet. It takes the transactional id.
    const zombie = new KafkaPublisher({
      brokers: kafka.brokers,
      clientId: `${kafka.clientId}-zombie`,
      transactionalId: relayTransactionalId(kafka),
    });
    await zombie.connect();
    try {
      // The relay's producer is fenced by the zombie on its next publish; it makes a new producer (which fences the
      // zombie in turn) and publishes from its checkpoint.
      expect((await api.post('/v1/incidents', { id: 'kafka-fence', title: 'Fence', category: 'other' })).status).toBe(
        201,
      );
      expect((await api.post('/v1/incidents/kafka-fence/status', { status: 'contained' })).status).toBe(200);
      await relayCaughtUp();

      const stale: FeedMessage = {
        topic: kafka.topicStatusChanges,
        key: 'kafka-fence',
        value: '{"zombie":true}',
        headers: { ce_id: 'zombie' },
      };
      await expect(zombie.publish([stale])).rejects.toMatchObject({ fenced: true });
    } finally {
      await zombie.disconnect();
    }

    const log = await ownLog();
    const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
    await reader!.until(
      () => own(topics.statusChanges).length >= statusChanges.length,
      'the status change made after the fencing',
    );
    // A marker published after the zombie's attempt shows the topic has been read past it.
    expect((await api.post('/v1/incidents/kafka-fence/status', { status: 'resolved' })).status).toBe(200);
    await relayCaughtUp();
    await reader!.until(() => own(topics.statusChanges).length >= statusChanges.length + 1, 'the marker');
    const messages = reader!.on(topics.statusChanges);
    expect(messages.filter((message) => message.headers.ce_id === 'zombie')).toEqual([]);
    expect(new Set(messages.map((message) => message.headers.ce_id)).size).toBe(messages.length);
  });
});
