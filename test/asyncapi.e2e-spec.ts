import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS } from '@app/config';
import { CATEGORIES, CONFIDENCES, FACT_EVENT_TYPE_NAMES, FACT_KINDS, RELATIONS, STATUSES } from '@app/domain';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { describeKafka, uniqueTopics } from './kafka/broker';
import { SchemaChecker } from './kafka/json-schema';
import { TopicReader, type ReceivedMessage } from './kafka/topic-reader';

/**
 * docs/asyncapi.yaml describes the topics, keys, headers and payloads. It is checked against the code's vocabulary,
 * its own examples, and against real messages the relay publishes for every kind of event made over HTTP: each
 * message must match exactly one message of its channel, by headers, and that message's key and payload schemas.
 */
const document = parse(readFileSync(join(__dirname, '..', 'docs', 'asyncapi.yaml'), 'utf8'));
const checker = new SchemaChecker(document);
const EVENT_TYPES = [
  'IncidentOpened',
  'IncidentDetailsRevised',
  'IncidentStatusChanged',
  'ImpactAssessed',
  'IncidentLinked',
  'FactCorrected',
  'FactRetracted',
  ...FACT_EVENT_TYPE_NAMES,
];

interface MessageDefinition {
  name: string;
  headers: any;
  payload: any;
  key: any;
}

/** The messages a channel declares, with the key schema their traits give them. */
function messagesOf(channel: string): MessageDefinition[] {
  const declared = document.channels[channel].messages as Record<string, any>;
  return Object.values(declared).map((reference) => {
    const message = checker.deref(reference);
    const traits = (message.traits ?? []).map((trait: any) => checker.deref(trait));
    const key = traits.map((trait: any) => trait.bindings?.kafka?.key).find(Boolean) ?? message.bindings?.kafka?.key;
    return { name: message.name, headers: message.headers, payload: message.payload, key };
  });
}

/** The one message definition of the channel whose headers accept this message; fails on none or several. */
function definitionFor(channel: string, headers: Record<string, string>): MessageDefinition {
  const matching = messagesOf(channel).filter((definition) => checker.errors(definition.headers, headers).length === 0);
  if (matching.length !== 1) {
    const reasons = messagesOf(channel).map((d) => `${d.name}: ${checker.errors(d.headers, headers).join('; ')}`);
    throw new Error(
      `${matching.length} message definitions of ${channel} accept ${JSON.stringify(headers)}\n${reasons.join('\n')}`,
    );
  }
  return matching[0];
}

describe('AsyncAPI document (docs/asyncapi.yaml)', () => {
  it('is AsyncAPI 3 with both topics at the configured default addresses', () => {
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.channels.incidentEvents.address).toBe(SETTINGS.kafkaTopicEvents.default);
    expect(document.channels.incidentStatusChanges.address).toBe(SETTINGS.kafkaTopicStatusChanges.default);
  });

  it('describes what the service does to each topic: it sends (AsyncAPI 3 operations are the application’s own)', () => {
    expect(
      Object.values(document.operations).map((operation: any) => [operation.action, operation.channel.$ref]),
    ).toEqual([
      ['send', '#/channels/incidentEvents'],
      ['send', '#/channels/incidentStatusChanges'],
    ]);
  });

  it('uses the vocabulary of the domain', () => {
    const schemas = document.components.schemas;
    expect(schemas.Category.enum).toEqual([...CATEGORIES]);
    expect(schemas.Status.enum).toEqual([...STATUSES]);
    expect(schemas.Confidence.enum).toEqual([...CONFIDENCES]);
    expect(schemas.Relation.enum).toEqual([...RELATIONS]);
    expect(schemas.FactKind.enum).toEqual([...FACT_KINDS]);
    expect(schemas.FactEventType.enum).toEqual([...FACT_EVENT_TYPE_NAMES]);
  });

  it('declares exactly one message for every event type on incident-events, and status changes only on the other', () => {
    for (const type of EVENT_TYPES) {
      const headers = { ce_type: type };
      const accepting = messagesOf('incidentEvents').filter(
        (definition) => checker.errors(definition.headers, headers).filter((e) => e.includes('ce_type')).length === 0,
      );
      expect({ type, messages: accepting.map((definition) => definition.name) }).toEqual({
        type,
        messages: [FACT_EVENT_TYPE_NAMES.includes(type as never) ? 'FactRecorded' : type],
      });
    }
    expect(messagesOf('incidentStatusChanges').map((definition) => definition.name)).toEqual(['IncidentStatusChanged']);
  });

  it('has examples that satisfy its own schemas', () => {
    let checked = 0;
    for (const reference of Object.values(document.components.messages) as any[]) {
      for (const example of reference.examples ?? []) {
        expect(checker.errors(reference.headers, example.headers)).toEqual([]);
        expect(checker.errors(reference.payload, example.payload)).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describeKafka('AsyncAPI document against real messages (e2e, real broker)', {}, (broker) => {
  let app: TestApp;
  let api: ApiClient;
  let reader: TopicReader | undefined;
  const topics = uniqueTopics('asyncapi');

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
  });

  afterAll(async () => {
    await reader?.stop();
    await app?.close();
  });

  async function expectStatus(response: Promise<{ status: number; body: any }>, status: number) {
    const settled = await response;
    expect({ status: settled.status, body: settled.body }).toMatchObject({ status });
    return settled.body;
  }

  /** Every kind of event, the way a client makes them. */
  async function recordEveryKindOfEvent(): Promise<number> {
    await expectStatus(
      api.post('/v1/incidents', {
        id: 'asyncapi-0558',
        title: 'Forged tokens read government mail',
        category: 'espionage',
        summary: 'A consumer signing key was used to forge enterprise tokens.',
        victims: ['US State Department'],
        threatActors: ['Storm-0558'],
        status: 'detected',
        effectiveAt: '2023-06-16T00:00:00Z',
      }),
      201,
    );
    await expectStatus(api.post('/v1/incidents', { id: 'asyncapi-other', title: 'Other', category: 'other' }), 201);
    await expectStatus(
      api.patch('/v1/incidents/asyncapi-0558', { category: 'supply-chain', summary: 'Revised.' }),
      200,
    );
    const factIds: string[] = [];
    for (const [index, kind] of FACT_KINDS.entries()) {
      const body = await expectStatus(
        api.post('/v1/incidents/asyncapi-0558/facts', {
          kind,
          occurredAt: ['2023-06-16', '2021-04~', '2023-05/2023-06', '../2023-05'][index % 4],
          summary: `A ${kind} fact`,
          confidence: CONFIDENCES[index % CONFIDENCES.length],
          ...(index % 2 === 0 && {
            sources: [
              { url: 'https://example.org/report', title: 'Report', publisher: 'Vendor', publishedAt: '2023-07-14' },
            ],
          }),
          ...(index % 3 === 0 && { assertedAt: '2023-09-06', actors: ['Storm-0558'] }),
        }),
        201,
      );
      factIds.push(body.factId);
    }
    await expectStatus(
      api.patch(`/v1/incidents/asyncapi-0558/facts/${factIds[0]}`, {
        confidence: 'disputed',
        assertedAt: '2024-03-12',
        sources: [{ url: 'https://example.org/update' }],
        reason: 'No crash dump containing the key was found.',
      }),
      200,
    );
    await expectStatus(
      api.post(`/v1/incidents/asyncapi-0558/facts/${factIds[1]}/retraction`, { reason: 'Recorded in error.' }),
      200,
    );
    await expectStatus(
      api.post('/v1/incidents/asyncapi-0558/status', {
        status: 'contained',
        effectiveAt: '2023-07-11T00:00:00Z',
        reason: 'Key revoked',
      }),
      200,
    );
    await expectStatus(api.post('/v1/incidents/asyncapi-0558/status', { status: 'resolved' }), 200);
    await expectStatus(
      api.put('/v1/incidents/asyncapi-0558/impact', { lossUsd: 1.5e6, records: 60000, organisations: 25 }),
      200,
    );
    const linked = await expectStatus(
      api.post('/v1/incidents/asyncapi-0558/links', { incidentId: 'asyncapi-other', relation: 'same-actor' }),
      201,
    );
    return linked.position;
  }

  it('describes every message the relay publishes: key, headers and payload', async () => {
    const last = await recordEveryKindOfEvent();
    reader = await TopicReader.start(broker().brokers, [topics.events, topics.statusChanges]);
    // Only this suite's incidents (asyncapi-*), should the store be shared with other writers.
    const own = (topic: string) => reader!.on(topic).filter((message) => message.key.startsWith('asyncapi-'));
    await reader.until(
      () => own(topics.events).some((message) => Number(message.headers.ce_position) === last),
      'every event published',
    );
    await reader.until(() => own(topics.statusChanges).length === 2, 'both status changes published');

    const seen = new Set<string>();
    const channels: Array<[string, string]> = [
      [topics.events, 'incidentEvents'],
      [topics.statusChanges, 'incidentStatusChanges'],
    ];
    for (const [topic, channel] of channels) {
      for (const message of own(topic)) {
        const definition = definitionFor(channel, message.headers);
        seen.add(`${channel}/${definition.name}`);
        expect(summary(message, checker.errors(definition.key, message.key))).toEqual(summary(message, []));
        const payload = JSON.parse(message.value);
        expect(summary(message, checker.errors(definition.payload, payload))).toEqual(summary(message, []));
      }
    }
    const declared = channels.flatMap(([, channel]) =>
      messagesOf(channel).map((definition) => `${channel}/${definition.name}`),
    );
    expect([...seen].sort()).toEqual(declared.sort());
  }, 60_000);
});

function summary(message: ReceivedMessage, errors: string[]) {
  return { type: message.headers.ce_type, position: message.headers.ce_position, errors };
}
