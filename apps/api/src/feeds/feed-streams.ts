import { HttpException, HttpStatus, Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthenticationError, Authenticator, principalKey, type AuthState } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { streamIdOf, type Category } from '@app/domain';
import { beyondTheLog, EVENT_STORE, type EventStore } from '@app/event-store';
import { STATUS_CHANGE_TYPE } from '@app/feeds';
import { Metrics } from '@app/observability';
import { BusyException } from '../http/busy';
import { ValidationProblemException } from '../http/validation';
import type { FeedQueryDto } from './feed-query.dto';
import { FeedHub, renderFrame, type EndReason } from './feed-hub';
import { IncidentCategories } from './incident-categories';
import { SseSession, type BacklogItem, type FeedFilter } from './sse-session';

export const SSE_HEARTBEAT_MS = Symbol('SSE_HEARTBEAT_MS');

export type FeedKind = 'events' | 'status-changes';

const POSITION = /^\d{1,15}$/;
/** How long a disconnected EventSource waits before it reconnects (the `retry:` field). */
const RECONNECT_MS = 3000;
const BACKLOG_PAGE = 100;
/** Open sessions end when their clients go; a refused client is asked to wait this long before it tries again. */
const RETRY_AFTER_SECONDS = 30;

/**
 * The Server-Sent Events feeds. Every session is served from one shared subscription to the store's global log (the
 * hub), never the in-process event bus; a client resuming from an earlier position reads its backlog first. Open
 * sessions are capped per principal (429) and in total (503), each ends when its token expires or stops being
 * accepted, and every one is closed on shutdown, so the HTTP server can stop.
 */
@Injectable()
export class FeedStreams implements OnModuleDestroy {
  private readonly sessions = new Set<SseSession>();
  private readonly perPrincipal = new Map<string, number>();
  private readonly logger = new Logger('Feeds');
  private readonly hub: FeedHub;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SSE_HEARTBEAT_MS) private readonly heartbeatMs: number,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authenticator: Authenticator,
    private readonly metrics: Metrics,
  ) {
    this.hub = new FeedHub(store, (error) =>
      this.logger.error({ msg: 'feed subscription failed; retrying', error: messageOf(error) }),
    );
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Validates the resume point and the limits, then answers 200 and streams; a refusal comes before the first byte. */
  async open(
    kind: FeedKind,
    query: FeedQueryDto,
    lastEventId: string | undefined,
    request: Request & AuthState,
    response: Response,
  ): Promise<void> {
    const after = await this.startAfter(query, lastEventId);
    await this.hub.start();
    const principal = request.principal!;
    const key = principalKey(principal);
    this.admit(key, response);

    const filter: FeedFilter = {
      ...(kind === 'status-changes' && { type: STATUS_CHANGE_TYPE }),
      ...(query.incidentId !== undefined && { streamId: streamIdOf(query.incidentId) }),
      ...(query.category !== undefined && { category: query.category as Category }),
    };

    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store, no-transform');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    response.write(`retry: ${RECONNECT_MS}\n\n`);

    const hub = this.hub;
    const readBacklog = this.backlogReader(filter);
    const session = new SseSession({
      response,
      source: {
        get position() {
          return hub.position;
        },
        attach: (listener) => hub.attach(listener),
        detach: (listener) => hub.detach(listener),
        readBacklog,
      },
      after,
      filter,
      heartbeatMs: this.heartbeatMs,
      bufferBytes: this.config.feeds.clientBufferBytes,
      expiresAt: principal.expiresAt,
      ...(this.authenticator.enabled && {
        recheck: { intervalMs: this.config.feeds.tokenRecheckMs, check: () => this.recheck(request) },
      }),
      onError: (error) => this.logger.error({ msg: 'feed session failed', feed: kind, error: messageOf(error) }),
    });
    this.sessions.add(session);
    this.perPrincipal.set(key, (this.perPrincipal.get(key) ?? 0) + 1);
    this.metrics.feedSessions.inc();
    void session.done.then((reason) => {
      this.sessions.delete(session);
      const left = this.perPrincipal.get(key)! - 1;
      if (left === 0) this.perPrincipal.delete(key);
      else this.perPrincipal.set(key, left);
      this.metrics.feedSessions.dec();
      this.metrics.feedSessionsEnded.inc({ reason: reason ?? 'client-closed' });
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.hub.close();
    for (const session of this.sessions) session.end('shutdown');
    await Promise.all([...this.sessions].map((session) => session.done));
  }

  private admit(key: string, response: Response): void {
    const { maxSessions, maxSessionsPerPrincipal } = this.config.feeds;
    if ((this.perPrincipal.get(key) ?? 0) >= maxSessionsPerPrincipal) {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new HttpException(
        `This principal holds ${maxSessionsPerPrincipal} open feed sessions, the most allowed ` +
          '(SSE_MAX_SESSIONS_PER_PRINCIPAL); close one, or retry after the number of seconds in Retry-After',
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    if (this.sessions.size >= maxSessions) {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new BusyException(
        `The service holds ${maxSessions} open feed sessions, the most it serves (SSE_MAX_SESSIONS); ` +
          'retry after the number of seconds in Retry-After',
      );
    }
  }

  /** The token of an open session, checked again: its issuer may have rotated the key away since it was opened. */
  private async recheck(request: Request & AuthState): Promise<EndReason | undefined> {
    try {
      await this.authenticator.authenticate(request.headers);
      return undefined;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      return error.reason === 'expired' ? 'token-expired' : 'token-refused';
    }
  }

  /**
   * A session's backlog: pages of the log after its resume point, filtered and rendered for it. Categories are read
   * for every event in order, so the session needs its own while it is behind the hub.
   */
  private backlogReader(filter: FeedFilter): (after: bigint) => Promise<BacklogItem[]> {
    const categories = filter.category === undefined ? undefined : new IncidentCategories(this.store);
    return async (after) => {
      const events = await this.store.readAll({ after, limit: BACKLOG_PAGE });
      const page: BacklogItem[] = [];
      for (const event of events) {
        const category = categories ? await categories.of(event) : undefined;
        const accepted =
          (filter.type === undefined || event.type === filter.type) &&
          (filter.streamId === undefined || event.streamId === filter.streamId) &&
          (filter.category === undefined || category === filter.category);
        page.push({ position: event.position, ...(accepted && { frame: renderFrame(event) }) });
      }
      return page;
    };
  }

  /**
   * Last-Event-ID wins over `after` (a reconnecting EventSource sends both: its original URL and the header). A
   * position beyond the end of the log cannot come from this store, and would wait silently forever: refused.
   */
  private async startAfter(query: FeedQueryDto, lastEventId: string | undefined): Promise<bigint> {
    const resume = lastEventId?.trim();
    const [field, raw] = resume !== undefined && resume !== '' ? ['Last-Event-ID', resume] : ['after', query.after];
    if (raw === undefined) return this.store.headPosition();
    if (!POSITION.test(raw)) {
      throw new ValidationProblemException([
        { field, message: 'must be an event id of this feed (a non-negative integer position)' },
      ]);
    }
    const after = BigInt(raw);
    // Against what is stored, not the head: an event acknowledged a moment ago may not be readable yet (PostgreSQL).
    if (await beyondTheLog(this.store, after)) {
      const head = await this.store.headPosition();
      throw new ValidationProblemException([
        { field, message: `must not be beyond the end of the log (position ${head})` },
      ]);
    }
    return after;
  }
}

function messageOf(error: unknown): unknown {
  return error instanceof Error ? error.message : error;
}
