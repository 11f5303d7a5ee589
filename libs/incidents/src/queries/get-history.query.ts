import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { streamIdOf } from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { IncidentNotFoundError } from '../errors';
import { historyEntry, type HistoryEntry } from './history';

export class GetHistoryQuery {
  constructor(
    readonly incidentId: string,
    /** Return events after this version. */
    readonly after: number | undefined,
    readonly limit: number,
  ) {}
}

export interface HistoryPage {
  items: HistoryEntry[];
  next: number | null;
}

/** The audit view reads the incident's stream itself: every event, corrections and retractions included. */
@QueryHandler(GetHistoryQuery)
export class GetHistoryHandler implements IQueryHandler<GetHistoryQuery, HistoryPage> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ incidentId, after, limit }: GetHistoryQuery): Promise<HistoryPage> {
    const streamId = streamIdOf(incidentId);
    const fromVersion = after === undefined ? 0 : after + 1;
    const events = await this.store.readStream(streamId, { fromVersion, limit: limit + 1 });
    if (events.length === 0 && (await this.store.readStream(streamId, { limit: 1 })).length === 0) {
      throw new IncidentNotFoundError(incidentId);
    }
    const page = events.slice(0, limit);
    return {
      items: page.map(historyEntry),
      next: events.length > limit ? page[page.length - 1].version : null,
    };
  }
}
