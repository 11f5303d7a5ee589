import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { FactView, PointInTime } from '@app/domain';
import { IncidentViews } from './incident-views.service';

export class GetTimelineQuery {
  constructor(
    readonly incidentId: string,
    readonly at: PointInTime,
    readonly includeRetracted: boolean,
  ) {}
}

@QueryHandler(GetTimelineQuery)
export class GetTimelineHandler implements IQueryHandler<GetTimelineQuery, { items: FactView[] }> {
  constructor(private readonly views: IncidentViews) {}

  async execute({ incidentId, at, includeRetracted }: GetTimelineQuery): Promise<{ items: FactView[] }> {
    return { items: await this.views.timeline(incidentId, at, includeRetracted) };
  }
}
