import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { incidentIdOf, streamIdOf } from '@app/domain';
import { EVENT_STORE, type EventStore, type StoredEvent } from '@app/event-store';
import { STATUS_CHANGE_TYPE } from '@app/feeds';
import { historyEntry } from '@app/incidents';
import { ValidationProblemException } from '../http/validation';
import type { FeedQueryDto } from './feed-query.dto';
import { IncidentCategories } from './incident-categories';
import { SseSession } from './sse-session';

export const SSE_HEARTBEAT_MS = Symbol('SSE_HEARTBEAT_MS');

export type FeedKind = 'events' | 'status-changes';

const POSITION = /^\d{1,15}$/;
/** How long a disconnected EventSource waits before it reconnects (the `retry:` field). */
const RECONNECT_MS = 3000;
const BATCH_SIZE = 100;

/**
 * The Server-Sent Events feeds: each connection is its own subscription to the store's global log (never the
 * in-process event bus), from the position the client names, filtered per connection. Every open session is closed
 * on shutdown, so the HTTP server can stop.
 */
@Injectable()
export class FeedStreams implements OnModuleDestroy {
  private readonly sessions = new Set<SseSession>();
  private readonly logger = new Logger('Feeds');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SSE_HEARTBEAT_MS) private readonly heartbeatMs: number,
  ) {}

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Validates the resume point, then answers 200 and streams; anything refused is refused before the first byte. */
  async open(kind: FeedKind, query: FeedQueryDto, lastEventId: string | undefined, response: Response): Promise<void> {
    const after = await this.startAfter(query, lastEventId);
    const categories = query.category === undefined ? undefined : new IncidentCategories(this.store);
    const streamId = query.incidentId === undefined ? undefined : streamIdOf(query.incidentId);
    const accept = async (event: StoredEvent): Promise<boolean> => {
      // Categories must see every event in order, so they are asked before any other filter can skip one.
      const category = categories ? await categories.of(event) : undefined;
      if (kind === 'status-changes' && event.type !== STATUS_CHANGE_TYPE) return false;
      if (streamId !== undefined && event.streamId !== streamId) return false;
      return categories === undefined || category === query.category;
    };

    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    response.write(`retry: ${RECONNECT_MS}\n\n`);

    const session = new SseSession({
      response,
      batches: (signal) => this.store.subscribe({ after, batchSize: BATCH_SIZE, signal }),
      accept,
      render: (event) => ({ ...historyEntry(event), incidentId: incidentIdOf(event.streamId) }),
      heartbeatMs: this.heartbeatMs,
      onError: (error) =>
        this.logger.error({
          msg: 'feed stream failed',
          feed: kind,
          error: error instanceof Error ? error.message : error,
        }),
    });
    this.sessions.add(session);
    void session.done.then(() => this.sessions.delete(session));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.close()));
  }

  /**
   * Last-Event-ID wins over `after` (a reconnecting EventSource sends both: its original URL and the header). A
   * position beyond the end of the log cannot come from this store, and would wait silently forever: refused.
   */
  private async startAfter(query: FeedQueryDto, lastEventId: string | undefined): Promise<bigint> {
    const head = await this.store.headPosition();
    const resume = lastEventId?.trim();
    const [field, raw] = resume !== undefined && resume !== '' ? ['Last-Event-ID', resume] : ['after', query.after];
    if (raw === undefined) return head;
    if (!POSITION.test(raw)) {
      throw new ValidationProblemException([
        { field, message: 'must be an event id of this feed (a non-negative integer position)' },
      ]);
    }
    const after = BigInt(raw);
    if (after > head) {
      throw new ValidationProblemException([
        { field, message: `must not be beyond the end of the log (position ${head})` },
      ]);
    }
    return after;
  }
}
