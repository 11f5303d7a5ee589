import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { historyEntry, type HistoryEntry } from './history';

export class GetEventsQuery {
  constructor(
    readonly after: bigint | undefined,
    readonly limit: number,
  ) {}
}

/** The global log, page by page, for replication and audit. */
@QueryHandler(GetEventsQuery)
export class GetEventsHandler implements IQueryHandler<GetEventsQuery, { items: HistoryEntry[]; next: number | null }> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ after, limit }: GetEventsQuery) {
    const events = await this.store.readAll({ after, limit });
    return {
      items: events.map(historyEntry),
      next: events.length === limit ? Number(events[events.length - 1].position) : null,
    };
  }
}
