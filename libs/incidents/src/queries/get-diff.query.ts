import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { IncidentDiff } from '@app/domain';
import { IncidentViews } from './incident-views.service';

export type DiffAxis = 'knownAt' | 'asOf';

export interface DiffResult extends IncidentDiff {
  incidentId: string;
  axis: DiffAxis;
  from: string;
  to: string;
}

/** What changed in public knowledge (axis knownAt) or in this record (axis asOf) between two instants. */
export class GetDiffQuery {
  constructor(
    readonly incidentId: string,
    readonly from: string,
    readonly to: string,
    readonly axis: DiffAxis,
  ) {}
}

@QueryHandler(GetDiffQuery)
export class GetDiffHandler implements IQueryHandler<GetDiffQuery, DiffResult> {
  constructor(private readonly views: IncidentViews) {}

  async execute({ incidentId, from, to, axis }: GetDiffQuery): Promise<DiffResult> {
    return { incidentId, axis, from, to, ...(await this.views.diff(incidentId, from, to, axis)) };
  }
}
