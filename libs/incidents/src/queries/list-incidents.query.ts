import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { PointInTime } from '@app/domain';
import type { IncidentSummaryRow } from '@app/read-models';
import { IncidentViews, type ListParams } from './incident-views.service';

export class ListIncidentsQuery {
  constructor(
    readonly params: ListParams,
    readonly at: PointInTime,
  ) {}
}

@QueryHandler(ListIncidentsQuery)
export class ListIncidentsHandler implements IQueryHandler<
  ListIncidentsQuery,
  { items: IncidentSummaryRow[]; next: string | null }
> {
  constructor(private readonly views: IncidentViews) {}

  execute({ params, at }: ListIncidentsQuery) {
    return this.views.list(params, at);
  }
}
