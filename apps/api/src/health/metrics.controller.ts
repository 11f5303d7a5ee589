import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PROJECTION_RUNNER, READ_MODELS } from '@app/incidents';
import { Metrics } from '@app/observability';
import type { ProjectionRunner, ReadModelStore } from '@app/read-models';
import { ApiProblems } from '../http/problem.schema';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: appends, projection lag, request latency' })
  @ApiOkResponse({
    description: 'Prometheus text format',
    content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
  })
  @ApiProblems(401, 403)
  async scrape(): Promise<string> {
    try {
      this.metrics.projectionLag.set(Number(await this.runner.lag()));
    } catch {
      this.metrics.projectionLag.set(Number.NaN);
    }
    this.metrics.projectionPosition.set(Number(this.runner.checkpoint));
    this.metrics.incidentsParked.set((await this.readModels.parked().catch(() => [])).length);
    return this.metrics.registry.metrics();
  }
}
