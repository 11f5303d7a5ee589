import type { StoredEvent } from '@app/event-store';

/** The part of an HTTP response a feed session writes to (a Node ServerResponse in the app, a fake in unit tests). */
export interface SseResponse {
  write(chunk: string): boolean;
  end(): unknown;
  readonly writableEnded: boolean;
  readonly writableNeedDrain: boolean;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

export interface SseSessionOptions {
  response: SseResponse;
  /** The store's subscription from the resume point; it must end when the signal aborts. */
  batches: (signal: AbortSignal) => AsyncIterable<StoredEvent[]>;
  accept: (event: StoredEvent) => Promise<boolean>;
  render: (event: StoredEvent) => unknown;
  heartbeatMs: number;
  onError?: (error: unknown) => void;
}

/** One `text/event-stream` frame: `id:` is the global position, so Last-Event-ID resumes right after it. */
export function sseFrame(event: StoredEvent, data: unknown): string {
  return `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const SSE_HEARTBEAT = ': heartbeat\n\n';

/**
 * Pumps one subscription into one response. Backpressure: when `write` reports a full buffer, the session stops
 * pulling from the subscription until the response drains, so a slow client holds at most one socket buffer and one
 * batch, never the log. Heartbeat comments keep proxies from closing an idle stream; they are skipped while the buffer
 * is full. The session ends, and its subscription with it, when the client goes away or `close()` is called.
 */
export class SseSession {
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: SseSessionOptions) {
    const { response } = options;
    response.on('close', this.abort);
    this.heartbeat = setInterval(() => {
      if (!response.writableNeedDrain && !response.writableEnded) response.write(SSE_HEARTBEAT);
    }, options.heartbeatMs);
    this.done = this.pump()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        clearInterval(this.heartbeat);
        response.off('close', this.abort);
        if (!response.writableEnded) response.end();
      });
  }

  async close(): Promise<void> {
    this.abort();
    await this.done;
  }

  private readonly abort = () => this.controller.abort();

  private async pump(): Promise<void> {
    const { signal } = this.controller;
    const { response, accept, render } = this.options;
    for await (const batch of this.options.batches(signal)) {
      for (const event of batch) {
        if (signal.aborted) return;
        if (!(await accept(event))) continue;
        if (!response.write(sseFrame(event, render(event)))) await this.drained();
      }
    }
  }

  private drained(): Promise<void> {
    const { response } = this.options;
    const { signal } = this.controller;
    return new Promise((resolve) => {
      const done = () => {
        response.off('drain', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      if (signal.aborted) return resolve();
      response.on('drain', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
