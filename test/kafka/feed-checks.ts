import type { StoredEvent } from '@app/event-store';
import type { ReceivedMessage } from './topic-reader';

/** Assertions the Kafka suites share: what a message must say about its event, and what the delivery guarantees. */

export function expectMessageOf(message: ReceivedMessage, event: StoredEvent): void {
  const incidentId = event.streamId.replace(/^incident-/, '');
  expect({ key: message.key, headers: message.headers, value: JSON.parse(message.value) }).toEqual({
    key: incidentId,
    headers: {
      ce_specversion: '1.0',
      ce_id: event.eventId,
      ce_type: event.type,
      ce_source: '/v1/incidents',
      ce_subject: incidentId,
      ce_time: event.recordedAt,
      ce_position: event.position.toString(),
      ce_incidentversion: String(event.version),
      ...(typeof event.metadata.correlationId === 'string' && { ce_correlationid: event.metadata.correlationId }),
      'content-type': 'application/json',
    },
    value: event.data,
  });
}

/**
 * The first copy of each message by `ce_id`, in arrival order; fails if two copies of one id differ in anything but
 * their offset (a duplicate must be the same event, republished).
 */
export function firstCopies(messages: ReceivedMessage[]): ReceivedMessage[] {
  const seen = new Map<string, ReceivedMessage>();
  const firsts: ReceivedMessage[] = [];
  for (const message of messages) {
    const id = message.headers.ce_id;
    const earlier = seen.get(id);
    if (earlier) {
      expect({ key: message.key, headers: message.headers, value: message.value }).toEqual({
        key: earlier.key,
        headers: earlier.headers,
        value: earlier.value,
      });
      continue;
    }
    seen.set(id, message);
    firsts.push(message);
  }
  return firsts;
}

/** Per incident (key), versions strictly increase in arrival order. */
export function expectPerIncidentOrder(messages: ReceivedMessage[]): void {
  const last = new Map<string, number>();
  const outOfOrder: string[] = [];
  for (const message of messages) {
    const version = Number(message.headers.ce_incidentversion);
    const previous = last.get(message.key);
    if (previous !== undefined && version <= previous)
      outOfOrder.push(`${message.key}: v${version} after v${previous}`);
    last.set(message.key, version);
  }
  expect(outOfOrder).toEqual([]);
}

/** Every position of `expected` is present (no gap), nothing else is. */
export function expectSamePositions(messages: ReceivedMessage[], expected: StoredEvent[]): void {
  const got = new Set(messages.map((message) => message.headers.ce_position));
  const missing = expected.filter((event) => !got.has(event.position.toString())).map((event) => event.position);
  expect({ missing: missing.slice(0, 20), count: got.size }).toEqual({ missing: [], count: expected.length });
}

/** Positions (as strings) of distinct messages seen so far. */
export function distinctPositions(messages: ReceivedMessage[]): Set<string> {
  return new Set(messages.map((message) => message.headers.ce_position));
}

/**
 * The relay's whole promise for a log, on both topics: every event, and on the status topic every status change, is
 * there with no gap; each message says what its event says; duplicates are copies of the same `ce_id`; and per
 * incident, first copies arrive in version order.
 */
export function expectRelayed(
  on: (topic: string) => ReceivedMessage[],
  topics: { events: string; statusChanges: string },
  log: StoredEvent[],
): void {
  const statusChanges = log.filter((event) => event.type === 'IncidentStatusChanged');
  const byPosition = new Map(log.map((event) => [event.position.toString(), event]));
  for (const [topic, expected] of [
    [topics.events, log],
    [topics.statusChanges, statusChanges],
  ] as const) {
    const messages = on(topic);
    expectSamePositions(messages, expected);
    for (const message of messages) expectMessageOf(message, byPosition.get(message.headers.ce_position)!);
    expectPerIncidentOrder(firstCopies(messages));
  }
}
