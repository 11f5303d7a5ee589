import type { ApiClient } from '@app/testing';

/** An entry of GET /v1/events, as the e2e suites read it. */
export interface LoggedEvent {
  eventId: string;
  type: string;
  streamId: string;
  version: number;
  position: number;
  recordedAt: string;
  correlationId: unknown;
  data: Record<string, unknown>;
}

/** The whole global log after a position, page by page (200 a page, the largest the API allows). */
export async function readEventLog(api: ApiClient, after = 0): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await api.get<{ items: LoggedEvent[]; next: number | null }>(`/v1/events?after=${cursor}&limit=200`);
    if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}: ${JSON.stringify(page.body)}`);
    events.push(...page.body.items);
    if (page.body.next === null) return events;
    cursor = page.body.next;
  }
}
