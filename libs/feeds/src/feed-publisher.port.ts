import type { FeedMessage } from './cloud-events';

/**
 * Where the relay publishes. One instance is one producer session: the relay throws it away after any failure and
 * makes a new one, which resumes from the checkpoint. Nothing here names a client library.
 */
export interface FeedPublisher {
  /**
   * Connects and claims the right to publish: a publisher connected later with the same identity fences this one,
   * whose next publish then fails with `fenced` set.
   */
  connect(): Promise<void>;
  /** Creates the topics that do not exist yet. */
  ensureTopics(topics: string[]): Promise<void>;
  /** Publishes the messages atomically, in order; resolves only once the broker has acknowledged all of them. */
  publish(messages: FeedMessage[]): Promise<void>;
  /** Resolves when the broker answers within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  disconnect(): Promise<void>;
}

export type FeedPublisherFactory = () => FeedPublisher;

/** A publisher failure, mapped from the client library's errors. */
export class FeedPublishError extends Error {
  constructor(
    message: string,
    /** Another publisher with the same identity has taken over; this one can never publish again. */
    readonly fenced: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FeedPublishError';
  }
}
