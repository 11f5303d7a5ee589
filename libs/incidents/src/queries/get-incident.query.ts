import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { IncidentView, PointInTime } from '@app/domain';
import { IncidentViews } from './incident-views.service';

export class GetIncidentQuery {
  constructor(
    readonly incidentId: string,
    readonly at: PointInTime,
  ) {}
}

@QueryHandler(GetIncidentQuery)
export class GetIncidentHandler implements IQueryHandler<GetIncidentQuery, IncidentView> {
  constructor(private readonly views: IncidentViews) {}

  execute({ incidentId, at }: GetIncidentQuery): Promise<IncidentView> {
    return this.views.incident(incidentId, at);
  }
}
