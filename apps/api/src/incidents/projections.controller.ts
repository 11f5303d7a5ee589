import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '@app/auth';
import { DomainError } from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { READ_MODELS } from '@app/incidents';
import { reprojectIncident, type ReadModelStore } from '@app/read-models';
import { IncidentIdPipe } from '../http/params';
import { ApiProblems } from '../http/problem.schema';
import { ParkedListDto, RetriedDto } from './dto/responses.dto';

function parkedView(parked: {
  incidentId: string;
  eventId: string;
  position: bigint;
  error: string;
  parkedAt: string;
}) {
  return { ...parked, position: Number(parked.position) };
}

/** Incidents the projection set aside because an event of theirs could not be applied, and their retry. */
@ApiTags('admin')
@ApiProblems(400, 401, 403, 429, 503)
@Controller('v1/admin/projections')
export class ProjectionsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
  ) {}

  @Get('parked')
  @Scopes('incidents:admin')
  @ApiOperation({ summary: 'Parked incidents: each with the event that cannot be applied and the error' })
  @ApiOkResponse({ type: ParkedListDto })
  async parked() {
    return { items: (await this.readModels.parked()).map(parkedView) };
  }

  @Post('parked/:id/retry')
  @Scopes('incidents:admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Fold the parked incident again from its stream; on success its rows are replaced and it is unparked',
  })
  @ApiOkResponse({ type: RetriedDto })
  @ApiProblems(404, 409)
  async retry(@Param('id', IncidentIdPipe) incidentId: string) {
    const [parked] = await this.readModels.parked([incidentId]);
    if (parked === undefined) throw new DomainError('not-found', `Incident ${incidentId} is not parked`);
    try {
      const state = await reprojectIncident(this.store, this.readModels, incidentId);
      return { incidentId, version: state.version, position: state.position };
    } catch (error) {
      throw new DomainError(
        'still-unreadable',
        `Incident ${incidentId} still cannot be projected: ${error instanceof Error ? error.message : String(error)}`,
        [],
        { eventId: parked.eventId, position: Number(parked.position) },
      );
    }
  }
}
