import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Scopes } from '@app/auth';
import { upperBoundOf, type FactView, type IncidentView, type StatusPeriod } from '@app/domain';
import {
  AssessImpactCommand,
  ChangeStatusCommand,
  CorrectFactCommand,
  GetDiffQuery,
  GetHistoryQuery,
  GetIncidentQuery,
  GetStatusHistoryQuery,
  GetTimelineQuery,
  LinkIncidentCommand,
  ListIncidentsQuery,
  OpenIncidentCommand,
  RecordFactCommand,
  RetractFactCommand,
  ReviseIncidentDetailsCommand,
  decodeCursor,
  normalisePointInTime,
  type CommandContext,
  type CommandResult,
  type DiffResult,
  type HistoryPage,
} from '@app/incidents';
import { CommandCtx } from '../http/command-context.decorator';
import { NextPageLinkInterceptor } from '../http/next-page-link.interceptor';
import { FactIdPipe, IncidentIdPipe } from '../http/params';
import { ApiProblems } from '../http/problem.schema';
import { ValidationProblemException } from '../http/validation';
import {
  ChangeStatusDto,
  AssessImpactDto,
  LinkIncidentDto,
  OpenIncidentDto,
  ReviseIncidentDto,
} from './dto/incident.dto';
import { SourceDto } from './dto/claim.dto';
import { CorrectFactDto, RecordFactDto, RetractFactDto } from './dto/fact.dto';
import {
  DiffQueryDto,
  HistoryQueryDto,
  ListIncidentsQueryDto,
  PointInTimeDto,
  TimelineQueryDto,
} from './dto/query.dto';
import {
  CREATED_HEADERS,
  ETAG_HEADER,
  FactWrittenDto,
  HistoryPageDto,
  IncidentListDto,
  IncidentViewDto,
  IncidentWrittenDto,
  LINK_HEADER,
  StatusHistoryDto,
  DiffDto,
  StatusWrittenDto,
  TimelineDto,
  WRITTEN_HEADERS,
} from './dto/responses.dto';
import { ReadYourWrites } from './read-your-writes';

const CONDITIONAL = {
  name: 'If-Match',
  required: false,
  description: 'Apply only at one of these versions, e.g. "3" or "3", "4"; * for any existing incident; else 412',
};
const IDEMPOTENT = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Safe retries: same key and body replay the first response',
};

/** Validated DTO instances become plain data before they reach the domain and the log. */
function plainSources(sources: SourceDto[]) {
  return sources.map((source) => ({ ...source }));
}

function claim<T extends { sources?: SourceDto[] }>(body: T): T {
  return { ...body, ...(body.sources !== undefined && { sources: plainSources(body.sources) }) };
}

function written(response: Response, result: CommandResult) {
  response.setHeader('ETag', `"${result.version}"`);
  if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
  return { version: result.version, position: Number(result.position) };
}

@ApiTags('incidents')
@ApiProblems(400, 401, 403, 429, 503)
@Controller('v1/incidents')
export class IncidentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  @Post()
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Open an incident' })
  @ApiHeader(IDEMPOTENT)
  @ApiCreatedResponse({ type: IncidentWrittenDto, headers: CREATED_HEADERS })
  @ApiProblems(409, 412, 413, 415, 422)
  async open(
    @Body() body: OpenIncidentDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<OpenIncidentCommand, CommandResult>(
      new OpenIncidentCommand(claim(body), context),
    );
    response.setHeader('Location', `/v1/incidents/${body.id}`);
    return { id: body.id, ...written(response, result) };
  }

  @Patch(':id')
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Revise title, category, summary, victims or threat actors' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiOkResponse({ type: IncidentWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async revise(
    @Param('id', IncidentIdPipe) id: string,
    @Body() body: ReviseIncidentDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<ReviseIncidentDetailsCommand, CommandResult>(
      new ReviseIncidentDetailsCommand(id, claim(body), context),
    );
    return { id, ...written(response, result) };
  }

  @Post(':id/facts')
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Record a fact on the timeline' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiCreatedResponse({ type: FactWrittenDto, headers: CREATED_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async recordFact(
    @Param('id', IncidentIdPipe) id: string,
    @Body() body: RecordFactDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<RecordFactCommand, CommandResult>(
      new RecordFactCommand(id, claim(body), context),
    );
    response.setHeader('Location', `/v1/incidents/${id}/timeline`);
    return { factId: result.factId, ...written(response, result) };
  }

  @Patch(':id/facts/:factId')
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Correct a fact; the original stays in the history' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiOkResponse({ type: FactWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async correctFact(
    @Param('id', IncidentIdPipe) id: string,
    @Param('factId', FactIdPipe) factId: string,
    @Body() body: CorrectFactDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const { reason, sources, assertedAt, erratum, ...changes } = body;
    const result = await this.commands.execute<CorrectFactCommand, CommandResult>(
      new CorrectFactCommand(
        id,
        {
          factId,
          changes: { ...changes },
          reason,
          ...(sources !== undefined && { sources: plainSources(sources) }),
          ...(assertedAt !== undefined && { assertedAt }),
          ...(erratum !== undefined && { erratum }),
        },
        context,
      ),
    );
    return { factId, ...written(response, result) };
  }

  @Post(':id/facts/:factId/retraction')
  @Scopes('incidents:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Retract a fact; it leaves the timeline and stays in the history' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiOkResponse({ type: FactWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async retractFact(
    @Param('id', IncidentIdPipe) id: string,
    @Param('factId', FactIdPipe) factId: string,
    @Body() body: RetractFactDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<RetractFactCommand, CommandResult>(
      new RetractFactCommand(id, { factId, ...body }, context),
    );
    return { factId, ...written(response, result) };
  }

  @Post(':id/status')
  @Scopes('incidents:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the status (detected, investigating, contained, resolved)' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiOkResponse({ type: StatusWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async changeStatus(
    @Param('id', IncidentIdPipe) id: string,
    @Body() body: ChangeStatusDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<ChangeStatusCommand, CommandResult>(
      new ChangeStatusCommand(id, claim(body), context),
    );
    return { id, status: body.status, ...written(response, result) };
  }

  @Put(':id/impact')
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Assess the impact' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiOkResponse({ type: IncidentWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async assessImpact(
    @Param('id', IncidentIdPipe) id: string,
    @Body() body: AssessImpactDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<AssessImpactCommand, CommandResult>(
      new AssessImpactCommand(id, claim(body), context),
    );
    return { id, ...written(response, result) };
  }

  @Post(':id/links')
  @Scopes('incidents:write')
  @ApiOperation({ summary: 'Link to a related incident' })
  @ApiHeader(CONDITIONAL)
  @ApiHeader(IDEMPOTENT)
  @ApiCreatedResponse({ type: IncidentWrittenDto, headers: WRITTEN_HEADERS })
  @ApiProblems(404, 409, 412, 413, 415, 422)
  async link(
    @Param('id', IncidentIdPipe) id: string,
    @Body() body: LinkIncidentDto,
    @CommandCtx() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute<LinkIncidentCommand, CommandResult>(
      new LinkIncidentCommand(id, claim(body), context),
    );
    return { id, ...written(response, result) };
  }

  @Get()
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'List incidents, newest change first; point-in-time with asOf, knownAt, validAt' })
  @ApiOkResponse({ type: IncidentListDto, headers: LINK_HEADER })
  @UseInterceptors(NextPageLinkInterceptor)
  async list(@Query() query: ListIncidentsQueryDto) {
    await this.readYourWrites.await(query.minPosition);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && cursor === undefined) {
      throw new ValidationProblemException([
        { field: 'cursor', message: 'must be a cursor returned as next by this endpoint' },
      ]);
    }
    return this.queries.execute(
      new ListIncidentsQuery(
        {
          status: query.status,
          category: query.category,
          q: query.q,
          technique: query.technique,
          limit: query.limit ?? 50,
          cursor,
        },
        normalisePointInTime(query),
      ),
    );
  }

  @Get(':id')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'The whole record with its timeline; point-in-time with asOf, knownAt, validAt' })
  @ApiOkResponse({ type: IncidentViewDto, headers: ETAG_HEADER })
  @ApiProblems(404)
  async get(
    @Param('id', IncidentIdPipe) id: string,
    @Query() query: PointInTimeDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<IncidentView> {
    await this.readYourWrites.await(query.minPosition);
    const view = await this.queries.execute<GetIncidentQuery, IncidentView>(
      new GetIncidentQuery(id, normalisePointInTime(query)),
    );
    response.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @Get(':id/timeline')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'Facts in timeline order (earliest, latest, position)' })
  @ApiOkResponse({ type: TimelineDto })
  @ApiProblems(404)
  async timeline(
    @Param('id', IncidentIdPipe) id: string,
    @Query() query: TimelineQueryDto,
  ): Promise<{ items: FactView[] }> {
    await this.readYourWrites.await(query.minPosition);
    return this.queries.execute(
      new GetTimelineQuery(id, normalisePointInTime(query), query.includeRetracted === 'true'),
    );
  }

  @Get(':id/history')
  @Scopes('incidents:read')
  @ApiOperation({ summary: 'The audit view: every event of the incident, oldest first, with actor and recorded time' })
  @ApiOkResponse({ type: HistoryPageDto, headers: LINK_HEADER })
  @UseInterceptors(NextPageLinkInterceptor)
  @ApiProblems(404)
  history(@Param('id', IncidentIdPipe) id: string, @Query() query: HistoryQueryDto): Promise<HistoryPage> {
    return this.queries.execute(new GetHistoryQuery(id, query.after, query.limit ?? 100));
  }

  @Get(':id/status-history')
  @Scopes('incidents:read')
  @ApiOperation({
    summary: 'Status periods in valid-time order with effectiveAt, assertedAt and recordedAt (asOf, knownAt, validAt)',
  })
  @ApiOkResponse({ type: StatusHistoryDto })
  @ApiProblems(404)
  async statusHistory(
    @Param('id', IncidentIdPipe) id: string,
    @Query() query: PointInTimeDto,
  ): Promise<{ items: StatusPeriod[] }> {
    await this.readYourWrites.await(query.minPosition);
    return this.queries.execute(new GetStatusHistoryQuery(id, normalisePointInTime(query)));
  }

  @Get(':id/diff')
  @Scopes('incidents:read')
  @ApiOperation({
    summary:
      'What changed between two points in time: facts added, removed and changed; status, details, impact, links',
  })
  @ApiOkResponse({ type: DiffDto })
  @ApiProblems(404)
  async diff(@Param('id', IncidentIdPipe) id: string, @Query() query: DiffQueryDto): Promise<DiffResult> {
    await this.readYourWrites.await(query.minPosition);
    const from = upperBoundOf(query.from);
    const to = upperBoundOf(query.to);
    if (Date.parse(from) > Date.parse(to)) {
      throw new ValidationProblemException([{ field: 'from', message: 'must not be after to' }]);
    }
    return this.queries.execute(new GetDiffQuery(id, from, to, query.axis ?? 'knownAt'));
  }
}
