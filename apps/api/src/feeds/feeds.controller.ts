import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Scopes } from '@app/auth';
import { ApiProblems } from '../http/problem.schema';
import { FeedQueryDto } from './feed-query.dto';
import { FeedStreams } from './feed-streams';

const LAST_EVENT_ID = {
  name: 'Last-Event-ID',
  required: false,
  description: 'Resume after this event id (a global position); EventSource sends it when it reconnects',
};

const STREAM = {
  description:
    'text/event-stream: `id:` = global position, `event:` = event type, `data:` = the event as in /v1/events plus ' +
    '`incidentId`; a `: heartbeat` comment every 15 s',
  content: { 'text/event-stream': { schema: { type: 'string' as const } } },
};

@ApiTags('feeds')
@ApiProblems(400, 401, 403, 429, 503)
@Controller('v1/feeds')
export class FeedsController {
  constructor(private readonly streams: FeedStreams) {}

  @Get('status-changes')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'Server-Sent Events: every status change, live, resumable with Last-Event-ID' })
  @ApiProduces('text/event-stream')
  @ApiHeader(LAST_EVENT_ID)
  @ApiOkResponse(STREAM)
  statusChanges(
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    return this.streams.open('status-changes', query, lastEventId, response);
  }

  @Get('events')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'Server-Sent Events: every event of the log, live, resumable with Last-Event-ID' })
  @ApiProduces('text/event-stream')
  @ApiHeader(LAST_EVENT_ID)
  @ApiOkResponse(STREAM)
  events(
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    return this.streams.open('events', query, lastEventId, response);
  }
}
