import { EventEmitter } from 'node:events';
import type { StoredEvent } from '@app/event-store';
import { SseSession, sseFrame, type SseResponse } from './sse-session';

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
}

function event(position: number): StoredEvent {
  return {
    eventId: `e${position}`,
    type: 'IncidentStatusChanged',
    streamId: 'incident-a',
    version: position - 1,
    position: BigInt(position),
    recordedAt: '2024-01-01T00:00:00.000Z',
    data: {},
    metadata: {},
  };
}

/** Batches of one event each, counting how many the session has pulled. */
function source(total: number) {
  const pulled = { count: 0 };
  async function* batches(signal: AbortSignal): AsyncIterable<StoredEvent[]> {
    for (let position = 1; position <= total && !signal.aborted; position += 1) {
      pulled.count += 1;
      yield [event(position)];
    }
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  return { batches, pulled };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SseSession', () => {
  it('stops pulling from the subscription while the response is full, and goes on after drain', async () => {
    const response = new FakeResponse(3);
    const { batches, pulled } = source(10);
    const session = new SseSession({
      response,
      batches,
      accept: async () => true,
      render: (e) => ({ position: Number(e.position) }),
      heartbeatMs: 60_000,
    });
    await settle();
    expect(pulled.count).toBe(3);
    expect(response.frames).toHaveLength(3);

    await settle();
    expect(pulled.count).toBe(3);

    response.drain();
    await settle();
    expect(pulled.count).toBe(6);
    response.drain();
    await settle();
    response.drain();
    await settle();
    response.drain();
    await settle();
    expect(response.frames.map((frame) => /^id: (\d+)/.exec(frame)![1])).toEqual(
      Array.from({ length: 10 }, (_, index) => String(index + 1)),
    );
    await session.close();
    expect(response.writableEnded).toBe(true);
  });

  it('skips events the filter refuses and ends when the client goes away', async () => {
    const response = new FakeResponse(100);
    const { batches } = source(6);
    const session = new SseSession({
      response,
      batches,
      accept: async (e) => e.position % 2n === 0n,
      render: () => ({}),
      heartbeatMs: 60_000,
    });
    await settle();
    expect(response.frames.map((frame) => /^id: (\d+)/.exec(frame)![1])).toEqual(['2', '4', '6']);
    response.emit('close');
    await session.done;
    expect(response.writableEnded).toBe(true);
  });

  it('writes frames whose id is the position and whose data is one JSON line', () => {
    expect(sseFrame(event(42), { text: 'two\nlines' })).toBe(
      'id: 42\nevent: IncidentStatusChanged\ndata: {"text":"two\\nlines"}\n\n',
    );
  });
});
