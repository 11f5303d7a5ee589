import type { Api } from './api';
import { withQuery } from './api';
import { SseParser } from './sse';

export interface FeedEvent {
  id: string | undefined;
  type: string;
  data: { type?: string; incidentId?: string; actor?: { sub?: string } | null; data?: Record<string, unknown> };
}

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface FeedHandlers {
  /** The stream is open: anything recorded from now on will arrive. */
  onOpen(): void;
  onEvent(event: FeedEvent): void;
  onState(state: FeedState): void;
}

/**
 * Follows /v1/feeds/events for one incident with fetch and a streaming body, so the Authorization header is sent
 * (EventSource cannot send one). After a dropped connection it resumes with Last-Event-ID, so nothing recorded in
 * between is missed. Returns a function that stops it.
 */
export function followIncident(api: Api, incidentId: string, handlers: FeedHandlers): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  let retryMs = 3000;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function run(): Promise<void> {
    while (!controller.signal.aborted) {
      handlers.onState(lastId === undefined ? 'connecting' : 'reconnecting');
      try {
        const response = await api.stream(
          withQuery('/v1/feeds/events', { incidentId }),
          lastId === undefined ? {} : { 'last-event-id': lastId },
          controller.signal,
        );
        if (response.status === 401 || response.status === 403) {
          handlers.onState('stopped');
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`feed answered ${response.status}`);
        handlers.onState('live');
        handlers.onOpen();
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) {
            if (message.id !== undefined) lastId = message.id;
            try {
              handlers.onEvent({
                id: message.id,
                type: message.event,
                data: JSON.parse(message.data) as FeedEvent['data'],
              });
            } catch {
              // a frame that is not JSON is not an event of this feed; skip it
            }
          }
          retryMs = parser.retryMs ?? retryMs;
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      if (controller.signal.aborted) return;
      handlers.onState('reconnecting');
      await pause(retryMs);
    }
  }

  void run();
  return () => controller.abort();
}
