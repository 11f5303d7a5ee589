import type { StoredEvent } from '@app/event-store';
import { cloudEventData, cloudEventHeaders, feedMessages, HEADERS } from './cloud-events';

const TOPICS = { events: 'incident-events', statusChanges: 'incident-status-changes' };

function stored(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    eventId: '6f1c2a7e-9d3b-4c5a-8e7f-6a5b4c3d2e1f',
    type: 'IncidentStatusChanged',
    streamId: 'incident-storm-0558',
    version: 3,
    position: 9_007_199_254_740_993n,
    recordedAt: '2023-07-11T10:00:00.000Z',
    data: { from: 'investigating', to: 'contained', effectiveAt: '2023-07-11T00:00:00Z', reason: 'Key revoked' },
    metadata: { actor: { iss: 'i', sub: 's' }, correlationId: 'corr-1', schemaVersion: 1 },
    ...overrides,
  };
}

describe('CloudEvents mapping (binary mode)', () => {
  it('maps the envelope to ce_* headers: id = event id, subject = incident id, time = recorded time', () => {
    expect(cloudEventHeaders(stored())).toEqual({
      ce_specversion: '1.0',
      ce_id: '6f1c2a7e-9d3b-4c5a-8e7f-6a5b4c3d2e1f',
      ce_type: 'IncidentStatusChanged',
      ce_source: '/v1/incidents',
      ce_subject: 'storm-0558',
      ce_time: '2023-07-11T10:00:00.000Z',
      ce_position: '9007199254740993',
      ce_incidentversion: '3',
      ce_correlationid: 'corr-1',
      'content-type': 'application/json',
    });
  });

  it('leaves the correlation id out when the event has none', () => {
    const headers = cloudEventHeaders(stored({ metadata: { schemaVersion: 1 } }));
    expect(headers).not.toHaveProperty(HEADERS.correlationId);
  });

  it('uses only lower-case letters and digits in attribute names, as CloudEvents requires', () => {
    for (const name of Object.keys(cloudEventHeaders(stored())).filter((header) => header.startsWith('ce_'))) {
      expect(name.slice(3)).toMatch(/^[a-z0-9]{1,20}$/);
    }
  });

  it('sends a status change to both topics, keyed by incident id, with the same id and value', () => {
    const messages = feedMessages(stored(), TOPICS);
    expect(messages.map((message) => message.topic)).toEqual(['incident-events', 'incident-status-changes']);
    for (const message of messages) {
      expect(message.key).toBe('storm-0558');
      expect(message.headers.ce_id).toBe('6f1c2a7e-9d3b-4c5a-8e7f-6a5b4c3d2e1f');
      expect(JSON.parse(message.value)).toEqual({
        from: 'investigating',
        to: 'contained',
        effectiveAt: '2023-07-11T00:00:00Z',
        reason: 'Key revoked',
      });
    }
  });

  it('sends any other event to the events topic only', () => {
    const messages = feedMessages(stored({ type: 'KeyCaptured', data: { factId: 'f' } }), TOPICS);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ topic: 'incident-events', key: 'storm-0558' });
    expect(messages[0].headers.ce_type).toBe('KeyCaptured');
  });

  it('publishes data upcast to the current schema, never an old shape', () => {
    const old = stored({
      type: 'KeyCaptured',
      data: { factId: 'f', references: [{ url: 'https://example.org' }] },
      metadata: { schemaVersion: 0 },
    });
    expect(JSON.parse(cloudEventData(old))).toEqual({ factId: 'f', sources: [{ url: 'https://example.org' }] });
  });
});
