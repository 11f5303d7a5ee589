import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Scopes } from '@app/auth';
import { IncidentViews, normalisePointInTime } from '@app/incidents';
import { renderExport } from '@app/interchange';
import { IncidentIdPipe } from '../http/params';
import { ApiProblems } from '../http/problem.schema';
import { ExportQueryDto } from './dto/export-query.dto';
import { ReadYourWrites } from './read-your-writes';

@ApiTags('incidents')
@Controller('v1/incidents')
export class ExportController {
  constructor(
    private readonly views: IncidentViews,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  @Get(':id/export')
  @Scopes('incidents:read')
  @ApiOperation({
    summary: 'Export the incident as a STIX 2.1 bundle, a markdown report or a CSV timeline',
    description:
      'Retracted facts are included (revoked in STIX, listed apart in the report, marked in the CSV). ' +
      'Ids and bytes are deterministic: the same view exports the same file.',
  })
  @ApiProduces('application/stix+json;version=2.1', 'text/markdown; charset=utf-8', 'text/csv; charset=utf-8')
  @ApiOkResponse({
    description: 'The file, with Content-Disposition naming it',
    headers: {
      'Content-Disposition': {
        description: 'attachment; the file name names the incident and the point in time',
        schema: { type: 'string', example: 'attachment; filename="storm-0558.stix.json"' },
      },
    },
    content: {
      'application/stix+json;version=2.1': {
        schema: {
          type: 'object',
          required: ['type', 'id', 'objects'],
          properties: {
            type: { type: 'string', enum: ['bundle'] },
            id: { type: 'string', example: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d' },
            objects: { type: 'array', items: { type: 'object', additionalProperties: true } },
          },
        },
      },
      'text/markdown; charset=utf-8': { schema: { type: 'string' } },
      'text/csv; charset=utf-8': { schema: { type: 'string' } },
    },
  })
  @ApiProblems(400, 401, 403, 404, 429, 503)
  async export(
    @Param('id', IncidentIdPipe) id: string,
    @Query() query: ExportQueryDto,
    @Res() response: Response,
  ): Promise<void> {
    await this.readYourWrites.await(query.minPosition);
    const incident = await this.views.incident(id, normalisePointInTime(query), true);
    const file = renderExport(query.format ?? 'stix', {
      incident,
      at: { knownAt: query.knownAt, asOf: query.asOf },
    });
    const body = Buffer.from(file.body, 'utf8');
    // Written as bytes: Express would append a charset parameter to the STIX media type.
    response
      .status(200)
      .setHeader('Content-Type', file.contentType)
      .setHeader('Content-Disposition', `attachment; filename="${file.fileName}"`)
      .setHeader('Content-Length', String(body.length))
      .end(body);
  }
}
