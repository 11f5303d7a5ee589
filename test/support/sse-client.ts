import { EventEmitter } from 'node:events';

export interface SseEvent {
  id: string;
  event: string;
  data: any;
}

/** Why the service ended the stream: the data of its final `end` event. */
export interface SseEnding {
  reason: string;
  detail: string;
}

/**
 * A minimal EventSource over fetch that records what it receives; `close()` disconnects like a closed tab. The final
 * `end` event of a stream the service ends is kept apart, in `ending`; `finished` resolves when the stream ends.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  ending?: SseEnding;
  ended = false;
  heartbeats = 0;
  retry?: number;
  private readonly changed = new EventEmitter();
  private readonly controller = new AbortController();
  private reading?: Promise<void>;

  private constructor(readonly response: Response) {}

  static async connect(url: string, token: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    const client = new SseClient(response);
    client.controller.signal.addEventListener('abort', () => controller.abort());
    if (response.ok) client.reading = client.read();
    return client;
  }

  /** Resolves when the stream ends (the service closed it, or `close()`). */
  get finished(): Promise<void> {
    return this.reading ?? Promise.resolve();
  }

  get ids(): number[] {
    return this.events.map((event) => Number(event.id));
  }

  /** Resolves once `condition` holds, re-checked on every frame; fails with what arrived after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.changed.off('frame', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.changed.off('frame', check);
        reject(new Error(`condition not met within ${timeoutMs} ms; received ids ${this.ids.join(',')}`));
      }, timeoutMs);
      this.changed.on('frame', check);
    });
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.reading;
  }

  private async read(): Promise<void> {
    const reader = this.response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          this.ended = true;
          this.changed.emit('frame');
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (!this.controller.signal.aborted) throw error;
    }
  }

  private frame(text: string): void {
    const fields: Record<string, string> = {};
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) {
        if (line.startsWith(': heartbeat')) this.heartbeats += 1;
        continue;
      }
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      fields[name] = (fields[name] ?? '') + line.slice(colon + 1).replace(/^ /, '');
    }
    if (fields.retry !== undefined) this.retry = Number(fields.retry);
    if (fields.event === 'end' && fields.id === undefined) {
      this.ending = JSON.parse(fields.data) as SseEnding;
    } else if (fields.data !== undefined) {
      this.events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) });
    }
    this.changed.emit('frame');
  }
}
