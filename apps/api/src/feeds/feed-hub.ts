import { setImmediate as yieldToIo, setTimeout as wait } from 'node:timers/promises';
import { incidentIdOf, type Category } from '@app/domain';
import type { EventStore, StoredEvent } from '@app/event-store';
import { historyEntry } from '@app/incidents';
import { IncidentCategories } from './incident-categories';

/** One event of the log as every feed session sees it: read, rendered and categorised once. */
export interface FeedItem {
  position: bigint;
  type: string;
  streamId: string;
  /** The incident's category as recorded at this event; only computed while some session filters by category. */
  category: Category | undefined;
  /** The whole `text/event-stream` frame. */
  frame: string;
}

/** Why the service ended a feed session; sent to the client as the data of a final `end` event. */
export type EndReason = 'token-expired' | 'token-refused' | 'slow-reader' | 'shutdown' | 'unavailable';

/** A live session, as the hub sees it. */
export interface FeedListener {
  readonly wantsCategory: boolean;
  offer(item: FeedItem): void;
  end(reason: EndReason): void;
}

const BATCH_SIZE = 100;
const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 30_000;

/** One `text/event-stream` frame: `id:` is the global position, so Last-Event-ID resumes right after it. */
export function sseFrame(event: Pick<StoredEvent, 'position' | 'type'>, data: unknown): string {
  return `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The frame of an event on both feeds: the entry of /v1/events plus the incident id. */
export function renderFrame(event: StoredEvent): string {
  return sseFrame(event, { ...historyEntry(event), incidentId: incidentIdOf(event.streamId) });
}

/**
 * The one subscription to the store's global log behind every open feed session. It starts at the end of the log
 * when the first session needs it, renders each new event once, and offers it to every live session, which filters
 * it for its client and buffers it (boundedly) for a client that reads slowly. Sessions that resume from earlier
 * positions read their backlog themselves and join once they have caught up with `position`.
 */
export class FeedHub {
  private readonly listeners = new Set<FeedListener>();
  private readonly categories: IncidentCategories;
  private started?: Promise<void>;
  private controller?: AbortController;
  private loop?: Promise<void>;
  private current = 0n;

  constructor(
    private readonly store: EventStore,
    private readonly onError: (error: unknown) => void,
  ) {
    this.categories = new IncidentCategories(store);
  }

  /** The last position offered to live sessions: a session that has read up to here may join. */
  get position(): bigint {
    return this.current;
  }

  get liveSessions(): number {
    return this.listeners.size;
  }

  start(): Promise<void> {
    this.started ??= this.subscribe().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  attach(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  detach(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    for (const listener of [...this.listeners]) listener.end('shutdown');
  }

  private async subscribe(): Promise<void> {
    this.current = await this.store.headPosition();
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.run(controller.signal);
  }

  /**
   * Reads the log for as long as the hub runs. A failed read is logged and tried again from the last position
   * offered, with a growing pause: live sessions miss nothing, they only wait (their heartbeats go on).
   */
  private async run(signal: AbortSignal): Promise<void> {
    let pause = FIRST_RETRY_MS;
    while (!signal.aborted) {
      try {
        for await (const batch of this.store.subscribe({ after: this.current, batchSize: BATCH_SIZE, signal })) {
          for (const event of batch) {
            if (signal.aborted) return;
            await this.offer(event);
            // Let sockets flush between events: a socket reports itself full until its writes complete, and a
            // session counts what it holds back against its client's buffer.
            await yieldToIo();
          }
          pause = FIRST_RETRY_MS;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.onError(error);
        await wait(pause, undefined, { signal }).catch(() => undefined);
        pause = Math.min(pause * 2, LAST_RETRY_MS);
      }
    }
  }

  private async offer(event: StoredEvent): Promise<void> {
    let category: Category | undefined;
    if (this.wantsCategory()) category = await this.categories.of(event);
    else this.categories.forget(event);
    const item: FeedItem = {
      position: event.position,
      type: event.type,
      streamId: event.streamId,
      category,
      frame: renderFrame(event),
    };
    // From here to the last offer nothing awaits, so a session joining sees either all of it or none.
    this.current = event.position;
    for (const listener of this.listeners) listener.offer(item);
  }

  private wantsCategory(): boolean {
    for (const listener of this.listeners) if (listener.wantsCategory) return true;
    return false;
  }
}
