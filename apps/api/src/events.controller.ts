import { Controller, Get, Query, UseInterceptors } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '@app/auth';
import { GetEventsQuery } from '@app/incidents';
import { NextPageLinkInterceptor } from './http/next-page-link.interceptor';
import { ApiProblems } from './http/problem.schema';
import { EventsQueryDto } from './incidents/dto/query.dto';
import { HistoryPageDto, LINK_HEADER } from './incidents/dto/responses.dto';

@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'The global log after a position, for replication and audit' })
  @ApiOkResponse({ type: HistoryPageDto, headers: LINK_HEADER })
  @UseInterceptors(NextPageLinkInterceptor)
  @ApiProblems(400, 401, 403, 429, 503)
  list(@Query() query: EventsQueryDto) {
    return this.queries.execute(
      new GetEventsQuery(query.after === undefined ? undefined : BigInt(query.after), query.limit ?? 100),
    );
  }
}
