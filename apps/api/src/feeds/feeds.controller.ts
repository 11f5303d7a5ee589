import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Scopes, type AuthState } from '@app/auth';
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
    '`incidentId`; a `: heartbeat` comment every 15 s. When the service ends the session (the token expired or is no ' +
    'longer accepted, the client read too slowly, shutdown) the last frame is `event: end` with `data: {"reason", ' +
    '"detail"}`; reconnect with Last-Event-ID (and a fresh token).',
  content: { 'text/event-stream': { schema: { type: 'string' as const } } },
};

const TOO_MANY = {
  description: 'The principal holds SSE_MAX_SESSIONS_PER_PRINCIPAL open sessions (problem+json, Retry-After)',
};
const FULL = { description: 'The service holds SSE_MAX_SESSIONS open sessions (problem+json, Retry-After)' };

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
  @ApiTooManyRequestsResponse(TOO_MANY)
  @ApiServiceUnavailableResponse(FULL)
  statusChanges(
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: Request & AuthState,
    @Res() response: Response,
  ): Promise<void> {
    return this.streams.open('status-changes', query, lastEventId, request, response);
  }

  @Get('events')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'Server-Sent Events: every event of the log, live, resumable with Last-Event-ID' })
  @ApiProduces('text/event-stream')
  @ApiHeader(LAST_EVENT_ID)
  @ApiOkResponse(STREAM)
  @ApiTooManyRequestsResponse(TOO_MANY)
  @ApiServiceUnavailableResponse(FULL)
  events(
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: Request & AuthState,
    @Res() response: Response,
  ): Promise<void> {
    return this.streams.open('events', query, lastEventId, request, response);
  }
}
