import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { PointInTime, StatusPeriod } from '@app/domain';
import { IncidentViews } from './incident-views.service';

export class GetStatusHistoryQuery {
  constructor(
    readonly incidentId: string,
    readonly at: PointInTime = {},
  ) {}
}

@QueryHandler(GetStatusHistoryQuery)
export class GetStatusHistoryHandler implements IQueryHandler<GetStatusHistoryQuery, { items: StatusPeriod[] }> {
  constructor(private readonly views: IncidentViews) {}

  async execute({ incidentId, at }: GetStatusHistoryQuery): Promise<{ items: StatusPeriod[] }> {
    return { items: await this.views.statusHistory(incidentId, at) };
  }
}
