import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { StatusPeriod } from '@app/domain';
import { IncidentViews } from './incident-views.service';

export class GetStatusHistoryQuery {
  constructor(readonly incidentId: string) {}
}

@QueryHandler(GetStatusHistoryQuery)
export class GetStatusHistoryHandler implements IQueryHandler<GetStatusHistoryQuery, { items: StatusPeriod[] }> {
  constructor(private readonly views: IncidentViews) {}

  async execute({ incidentId }: GetStatusHistoryQuery): Promise<{ items: StatusPeriod[] }> {
    return { items: (await this.views.state(incidentId, {})).statusHistory };
  }
}
