import { incidentIdOf } from '@app/domain';
import { currentData, type StoredEvent } from '@app/event-store';

/**
 * The pure mapping from a stored event to the Kafka messages the relay publishes: CloudEvents 1.0 in binary mode
 * (attributes as `ce_*` headers, the event's data as the JSON value), keyed by incident id so that one incident's
 * messages share a partition and keep their order.
 */

export const CLOUD_EVENTS_SPEC_VERSION = '1.0';
/** `ce_source`: the collection the events belong to; `ce_subject` names the incident within it. */
export const CLOUD_EVENTS_SOURCE = '/v1/incidents';
export const STATUS_CHANGE_TYPE = 'IncidentStatusChanged';

/** Header names. Extension attributes follow the CloudEvents naming rule (lower-case letters and digits). */
export const HEADERS = {
  specVersion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  subject: 'ce_subject',
  time: 'ce_time',
  /** Extension: the event's global position in the store's log (decimal string). */
  position: 'ce_position',
  /** Extension: the event's 0-based version within its incident's stream (decimal string). */
  incidentVersion: 'ce_incidentversion',
  /** Extension: the correlation id of the request that recorded the event, when it has one. */
  correlationId: 'ce_correlationid',
  /** The binding maps `datacontenttype` to the plain `content-type` header. */
  contentType: 'content-type',
} as const;

export interface FeedTopics {
  /** Receives every event. */
  events: string;
  /** Receives every `IncidentStatusChanged`. */
  statusChanges: string;
}

export interface FeedMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export function cloudEventHeaders(event: StoredEvent): Record<string, string> {
  const correlationId = event.metadata.correlationId;
  return {
    [HEADERS.specVersion]: CLOUD_EVENTS_SPEC_VERSION,
    [HEADERS.id]: event.eventId,
    [HEADERS.type]: event.type,
    [HEADERS.source]: CLOUD_EVENTS_SOURCE,
    [HEADERS.subject]: incidentIdOf(event.streamId),
    [HEADERS.time]: event.recordedAt,
    [HEADERS.position]: event.position.toString(),
    [HEADERS.incidentVersion]: String(event.version),
    ...(typeof correlationId === 'string' && correlationId !== '' && { [HEADERS.correlationId]: correlationId }),
    [HEADERS.contentType]: 'application/json',
  };
}

/** The event's data brought up to the current schema version, as JSON: consumers never see old shapes. */
export function cloudEventData(event: StoredEvent): string {
  return JSON.stringify(currentData(event) ?? null);
}

/** Every event goes to the events topic; a status change goes to the status topic as well, with the same id. */
export function feedMessages(event: StoredEvent, topics: FeedTopics): FeedMessage[] {
  const message = {
    key: incidentIdOf(event.streamId),
    value: cloudEventData(event),
    headers: cloudEventHeaders(event),
  };
  const messages: FeedMessage[] = [{ topic: topics.events, ...message }];
  if (event.type === STATUS_CHANGE_TYPE) messages.push({ topic: topics.statusChanges, ...message });
  return messages;
}
