import type { Category } from '@app/domain';
import type { EndReason, FeedItem, FeedListener } from './feed-hub';

/** The part of an HTTP response a feed session writes to (a Node ServerResponse in the app, a fake in unit tests). */
export interface SseResponse {
  write(chunk: string): boolean;
  end(): unknown;
  destroy?(): unknown;
  readonly writableEnded: boolean;
  readonly writableFinished?: boolean;
  readonly writableNeedDrain: boolean;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/** Which events a client asked for. */
export interface FeedFilter {
  type?: string;
  streamId?: string;
  category?: Category;
}

/** One event of a session's backlog: its position, and its frame when the session's filter accepts it. */
export interface BacklogItem {
  position: bigint;
  frame?: string;
}

/** Where a session's events come from: its backlog, read page by page, then the hub's live events. */
export interface SessionSource {
  readonly position: bigint;
  attach(listener: FeedListener): void;
  detach(listener: FeedListener): void;
  /** The next page of the log after `after`, filtered and rendered for this session; empty at the end. */
  readBacklog(after: bigint): Promise<BacklogItem[]>;
}

export interface SseSessionOptions {
  response: SseResponse;
  source: SessionSource;
  /** The position the client has seen: only later events are sent. */
  after: bigint;
  filter: FeedFilter;
  heartbeatMs: number;
  /** Bytes of live frames held while the client does not read; beyond it the client is dropped. */
  bufferBytes: number;
  /** When the token ends (ms since the epoch), and with it the session. */
  expiresAt?: number;
  /** Asked every `intervalMs` whether the token still holds; an end reason ends the session. */
  recheck?: { intervalMs: number; check: () => Promise<EndReason | undefined> };
  now?: () => number;
  onError?: (error: unknown) => void;
}

export const SSE_HEARTBEAT = ': heartbeat\n\n';

const END_DETAILS: Record<EndReason, string> = {
  'token-expired': 'The token has expired; reconnect with a fresh token and Last-Event-ID',
  'token-refused':
    'The token is no longer accepted (its issuer may have rotated its key away); reconnect with a fresh token and Last-Event-ID',
  'slow-reader': 'The client did not read fast enough and its buffer is full; reconnect with Last-Event-ID',
  shutdown: 'The service is shutting down; reconnect with Last-Event-ID',
  unavailable: 'The event log could not be read; reconnect with Last-Event-ID',
};

/** The last frame of a session the service ends: an `end` event without an id, so Last-Event-ID stays put. */
export function endFrame(reason: EndReason): string {
  return `event: end\ndata: ${JSON.stringify({ reason, detail: END_DETAILS[reason] })}\n\n`;
}

/** A dropped slow reader gets this long to take what its socket holds before the connection is cut. */
const DROP_GRACE_MS = 30_000;
/** Longest delay setTimeout accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One client of a feed. It first sends its backlog (the log after the client's resume point, read page by page with
 * backpressure: a full socket pauses the reading), then joins the hub and sends live events, which were read and
 * rendered once for every session. A client that stops reading while live gets `bufferBytes` of frames held for it,
 * then it is dropped with a final `end` event naming the reason and resumes with Last-Event-ID; the others are never
 * held back. The session also ends when its token expires or is no longer accepted, on shutdown, or when the client
 * goes away; `done` says why (undefined when the client left).
 */
export class SseSession implements FeedListener {
  readonly done: Promise<EndReason | undefined>;
  readonly wantsCategory: boolean;
  private finish!: (reason: EndReason | undefined) => void;
  private cursor: bigint;
  private ended = false;
  private waiting = false;
  private queue: string[] = [];
  private queuedBytes = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private stopWaiting?: () => void;

  constructor(private readonly options: SseSessionOptions) {
    const { response, heartbeatMs, recheck } = options;
    this.now = options.now ?? Date.now;
    this.cursor = options.after;
    this.wantsCategory = options.filter.category !== undefined;
    this.done = new Promise((resolve) => (this.finish = resolve));
    response.on('close', this.clientLeft);
    this.timers.push(
      setInterval(() => {
        if (!this.waiting && !response.writableNeedDrain && !response.writableEnded) response.write(SSE_HEARTBEAT);
      }, heartbeatMs),
    );
    if (options.expiresAt !== undefined) this.expireAt(options.expiresAt);
    if (recheck) {
      this.timers.push(
        setInterval(() => {
          recheck.check().then(
            (reason) => reason && this.end(reason),
            (error: unknown) => options.onError?.(error),
          );
        }, recheck.intervalMs),
      );
    }
    this.sendBacklog().catch((error: unknown) => {
      options.onError?.(error);
      this.end('unavailable');
    });
  }

  offer(item: FeedItem): void {
    if (this.ended || item.position <= this.cursor) return;
    this.cursor = item.position;
    const { filter } = this.options;
    if (filter.type !== undefined && item.type !== filter.type) return;
    if (filter.streamId !== undefined && item.streamId !== filter.streamId) return;
    if (filter.category !== undefined && item.category !== filter.category) return;
    if (!this.waiting) {
      if (!this.options.response.write(item.frame)) this.waitForDrain();
      return;
    }
    this.queue.push(item.frame);
    this.queuedBytes += Buffer.byteLength(item.frame);
    if (this.queuedBytes > this.options.bufferBytes) this.end('slow-reader');
  }

  end(reason: EndReason): void {
    if (!this.close()) return;
    const { response } = this.options;
    if (!response.writableEnded) {
      response.write(endFrame(reason));
      response.end();
    }
    if (reason === 'slow-reader' && response.destroy) {
      const destroy = setTimeout(() => response.writableFinished || response.destroy?.(), DROP_GRACE_MS);
      destroy.unref();
    }
    this.finish(reason);
  }

  private readonly clientLeft = () => {
    if (!this.close()) return;
    if (!this.options.response.writableEnded) this.options.response.end();
    this.finish(undefined);
  };

  /** Stops everything the session runs; false when it had stopped already. */
  private close(): boolean {
    if (this.ended) return false;
    this.ended = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.options.source.detach(this);
    this.options.response.off('close', this.clientLeft);
    this.options.response.off('drain', this.flush);
    this.queue = [];
    this.queuedBytes = 0;
    this.stopWaiting?.();
    return true;
  }

  private expireAt(expiresAt: number): void {
    const delay = expiresAt - this.now();
    if (delay <= 0) return void queueMicrotask(() => this.end('token-expired'));
    this.timers.push(setTimeout(() => this.expireAt(expiresAt), Math.min(delay, MAX_TIMER_MS)));
  }

  /**
   * Reads the backlog until it reaches what the hub has offered, then joins the hub. The check and the join happen
   * with nothing awaited in between, so no live event falls between the two.
   */
  private async sendBacklog(): Promise<void> {
    const { source, response } = this.options;
    while (!this.ended) {
      if (this.cursor >= source.position) break;
      const page = await source.readBacklog(this.cursor);
      if (page.length === 0) break;
      for (const item of page) {
        if (this.ended) return;
        this.cursor = item.position;
        if (item.frame !== undefined && !response.write(item.frame)) await this.drained();
      }
    }
    if (!this.ended) source.attach(this);
  }

  private waitForDrain(): void {
    this.waiting = true;
    this.options.response.once('drain', this.flush);
  }

  private readonly flush = () => {
    this.waiting = false;
    const { response } = this.options;
    while (this.queue.length > 0 && !this.ended) {
      const frame = this.queue.shift()!;
      this.queuedBytes -= Buffer.byteLength(frame);
      if (!response.write(frame)) return this.waitForDrain();
    }
  };

  private drained(): Promise<void> {
    const { response } = this.options;
    return new Promise((resolve) => {
      const done = () => {
        this.stopWaiting = undefined;
        response.off('drain', done);
        resolve();
      };
      // The session may end (expiry, shutdown, the client leaving) while it waits: that stops the wait too.
      this.stopWaiting = done;
      response.on('drain', done);
    });
  }
}
