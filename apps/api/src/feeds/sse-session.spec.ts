import { EventEmitter } from 'node:events';
import type { StoredEvent } from '@app/event-store';
import { renderFrame, sseFrame, type FeedItem, type FeedListener } from './feed-hub';
import { SseSession, type BacklogItem, type SessionSource, type SseResponse } from './sse-session';

/** A response whose buffer holds `capacity` frames; `write` reports false once it is full, as a socket would. */
class FakeResponse extends EventEmitter implements SseResponse {
  readonly frames: string[] = [];
  writableEnded = false;
  buffered = 0;

  constructor(private readonly capacity: number) {
    super();
  }

  get writableNeedDrain(): boolean {
    return this.buffered >= this.capacity;
  }

  write(chunk: string): boolean {
    this.frames.push(chunk);
    this.buffered += 1;
    return this.buffered < this.capacity;
  }

  end(): void {
    this.writableEnded = true;
  }

  /** The client reads everything buffered. */
  drain(): void {
    this.buffered = 0;
    this.emit('drain');
  }

  get ids(): string[] {
    return this.frames.flatMap((frame) => /^id: (\d+)/.exec(frame)?.[1] ?? []);
  }

  get ending(): unknown {
    const last = this.frames[this.frames.length - 1] ?? '';
    return last.startsWith('event: end\n') ? JSON.parse(/^data: (.*)$/m.exec(last)![1]) : undefined;
  }
}

function event(position: number, type = 'IncidentStatusChanged'): StoredEvent {
  return {
    eventId: `e${position}`,
    type,
    streamId: 'incident-a',
    version: position - 1,
    position: BigInt(position),
    recordedAt: '2024-01-01T00:00:00.000Z',
    data: { padding: 'x'.repeat(100) },
    metadata: {},
  };
}

function item(position: number, type = 'IncidentStatusChanged'): FeedItem {
  const stored = event(position, type);
  return {
    position: stored.position,
    type,
    streamId: stored.streamId,
    category: undefined,
    frame: renderFrame(stored),
  };
}

/** A log of `total` events read in pages of `pageSize`, and a hub standing at `head`; counts the pages read. */
class FakeSource implements SessionSource {
  readonly listeners = new Set<FeedListener>();
  pages = 0;

  constructor(
    private readonly total: number,
    public position: bigint,
    private readonly pageSize = 2,
    private readonly accept: (e: StoredEvent) => boolean = () => true,
  ) {}

  attach(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  detach(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  async readBacklog(after: bigint): Promise<BacklogItem[]> {
    this.pages += 1;
    const page: BacklogItem[] = [];
    for (let p = Number(after) + 1; p <= this.total && page.length < this.pageSize; p += 1) {
      const stored = event(p);
      page.push({ position: stored.position, ...(this.accept(stored) && { frame: renderFrame(stored) }) });
    }
    return page;
  }

  /** What the hub does with a new event. */
  publish(next: FeedItem): void {
    this.position = next.position;
    for (const listener of this.listeners) listener.offer(next);
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

const opened: SseSession[] = [];
afterEach(() => {
  for (const feed of opened.splice(0)) feed.end('shutdown');
});

function session(
  response: FakeResponse,
  source: FakeSource,
  overrides: Partial<ConstructorParameters<typeof SseSession>[0]> = {},
) {
  const feed = new SseSession({
    response,
    source,
    after: 0n,
    filter: {},
    heartbeatMs: 60_000,
    bufferBytes: 1_000,
    ...overrides,
  });
  opened.push(feed);
  return feed;
}

describe('SseSession', () => {
  it('reads its backlog only as fast as the client reads, then joins the hub and goes on live', async () => {
    const response = new FakeResponse(3);
    const source = new FakeSource(10, 10n);
    const feed = session(response, source);
    await settle();
    expect(response.ids).toEqual(['1', '2', '3']);
    const pagesWhileFull = source.pages;
    await settle();
    expect(source.pages).toBe(pagesWhileFull);

    for (let round = 0; round < 4; round += 1) {
      response.drain();
      await settle();
    }
    expect(response.ids).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(source.listeners.has(feed)).toBe(true);

    response.drain();
    source.publish(item(11));
    expect(response.ids.at(-1)).toBe('11');
    feed.end('shutdown');
    expect(await feed.done).toBe('shutdown');
    expect(response.ending).toMatchObject({ reason: 'shutdown' });
    expect(response.writableEnded).toBe(true);
  });

  it('sends only what its filter accepts, live too, and ends quietly when the client goes away', async () => {
    const response = new FakeResponse(100);
    const source = new FakeSource(6, 6n, 2, (e) => e.position % 2n === 0n);
    const feed = session(response, source, { filter: { type: 'IncidentStatusChanged' } });
    await settle();
    source.publish(item(7, 'FactRecorded'));
    source.publish(item(8));
    expect(response.ids).toEqual(['2', '4', '6', '8']);
    response.emit('close');
    expect(await feed.done).toBeUndefined();
    expect(source.listeners.size).toBe(0);
  });

  it('never sends an event twice or skips one when it joins the hub while the hub moves on', async () => {
    const response = new FakeResponse(100);
    const source = new FakeSource(4, 4n);
    session(response, source, { after: 1n });
    // The hub offers 3 and 4 again (it already had them) and then 5: only 5 is new to the session.
    await settle();
    source.publish(item(3));
    source.publish(item(4));
    source.publish(item(5));
    expect(response.ids).toEqual(['2', '3', '4', '5']);
  });

  it('holds live events for a client that does not read up to its buffer, then drops it with a reason; others go on', async () => {
    const slow = new FakeResponse(2);
    const fast = new FakeResponse(1_000);
    const source = new FakeSource(0, 0n);
    const frameBytes = Buffer.byteLength(item(1).frame);
    const slowFeed = session(slow, source, { bufferBytes: frameBytes * 5 });
    session(fast, source, { bufferBytes: frameBytes * 5 });
    await settle();

    for (let position = 1; position <= 7; position += 1) source.publish(item(position));
    // Two frames reached the socket, five wait in the buffer: not yet dropped.
    expect(slow.ids).toEqual(['1', '2']);
    expect(source.listeners.has(slowFeed)).toBe(true);
    source.publish(item(8));
    expect(await slowFeed.done).toBe('slow-reader');
    expect(slow.ids).toEqual(['1', '2']);
    expect(slow.ending).toMatchObject({ reason: 'slow-reader', detail: expect.stringContaining('Last-Event-ID') });
    expect(source.listeners.has(slowFeed)).toBe(false);

    for (let position = 9; position <= 20; position += 1) source.publish(item(position));
    expect(fast.ids).toEqual(Array.from({ length: 20 }, (_, index) => String(index + 1)));
  });

  it('sends what it held, in order, once the client reads again within its buffer', async () => {
    const response = new FakeResponse(2);
    const source = new FakeSource(0, 0n);
    session(response, source, { bufferBytes: 100_000 });
    await settle();
    for (let position = 1; position <= 6; position += 1) source.publish(item(position));
    expect(response.ids).toEqual(['1', '2']);
    response.drain();
    response.drain();
    response.drain();
    expect(response.ids).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('ends at the expiry of its token with a final event saying so', async () => {
    const response = new FakeResponse(100);
    const source = new FakeSource(0, 0n);
    const expiresAt = Date.now() + 50;
    const feed = session(response, source, { expiresAt });
    expect(await feed.done).toBe('token-expired');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(response.ending).toMatchObject({ reason: 'token-expired' });
    expect(response.writableEnded).toBe(true);
    expect(source.listeners.size).toBe(0);
  });

  it('ends when a check of its token says the token is no longer accepted', async () => {
    const response = new FakeResponse(100);
    const source = new FakeSource(0, 0n);
    let accepted = true;
    let checks = 0;
    let threeChecks!: () => void;
    const checkedThrice = new Promise<void>((resolve) => (threeChecks = resolve));
    const feed = session(response, source, {
      recheck: {
        intervalMs: 10,
        check: async () => {
          checks += 1;
          if (checks === 3) threeChecks();
          return accepted ? undefined : 'token-refused';
        },
      },
    });
    await checkedThrice;
    expect(response.writableEnded).toBe(false);
    accepted = false;
    expect(await feed.done).toBe('token-refused');
    expect(response.ending).toMatchObject({ reason: 'token-refused' });
  });

  it('writes frames whose id is the position and whose data is one JSON line', () => {
    expect(sseFrame(event(42), { text: 'two\nlines' })).toBe(
      'id: 42\nevent: IncidentStatusChanged\ndata: {"text":"two\\nlines"}\n\n',
    );
  });
});
