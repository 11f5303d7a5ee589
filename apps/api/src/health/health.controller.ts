import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { PROJECTION_RUNNER } from '@app/incidents';
import type { ProjectionRunner } from '@app/read-models';
import { ReadinessChecks, type ReadinessCheck } from './readiness';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly extraChecks: ReadinessChecks,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the store answers and the read models are caught up within a bound' })
  @ApiOkResponse({ description: 'Ready' })
  @ApiServiceUnavailableResponse({ description: 'Not ready; `checks` says why' })
  async ready(@Res({ passthrough: true }) response: Response) {
    const checks: Record<string, ReadinessCheck> = {};
    try {
      await this.store.ping();
      checks.eventStore = { ok: true, kind: this.store.kind };
    } catch {
      checks.eventStore = { ok: false, kind: this.store.kind, detail: 'not reachable' };
    }
    {
      // Every replica reports the shared projection's lag, whether it projects or follows the checkpoint.
      try {
        const lag = Number(await this.runner.lag());
        checks.projections = {
          ok: lag <= this.config.readyMaxLag && this.runner.failure === undefined,
          lag,
          position: Number(this.runner.checkpoint),
          projector: this.runner.isProjector,
          store: this.config.readModelStore,
          ...(this.runner.failure !== undefined && { detail: 'projection is failing and retrying' }),
        };
      } catch {
        checks.projections = { ok: false, detail: 'lag unknown: event store not reachable' };
      }
    }
    Object.assign(checks, await this.extraChecks.run());
    const ok = Object.values(checks).every((check) => check.ok);
    response.status(ok ? 200 : 503);
    if (!ok) response.setHeader('Retry-After', '5');
    return { status: ok ? 'ready' : 'not-ready', checks };
  }
}
