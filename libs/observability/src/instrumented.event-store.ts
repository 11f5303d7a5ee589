import {
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedVersion,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeOptions,
} from '@app/event-store';
import type { Metrics } from './metrics';

/** Counts appends and conflicts around any adapter; everything else passes straight through. */
export class InstrumentedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly metrics: Metrics,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedVersion): Promise<AppendResult> {
    try {
      const result = await this.inner.append(streamId, events, expected);
      if (result.written) for (const event of events) this.metrics.eventsAppended.inc({ type: event.type });
      return result;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) this.metrics.appendConflicts.inc();
      throw error;
    }
  }

  copyIn(events: StoredEvent[]): Promise<void> {
    return this.inner.copyIn(events);
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }

  get eventsAfter(): EventStore['eventsAfter'] {
    return this.inner.eventsAfter?.bind(this.inner);
  }

  subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]> {
    return this.inner.subscribe(options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
