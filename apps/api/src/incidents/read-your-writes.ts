import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { PROJECTION_RUNNER } from '@app/incidents';
import { Metrics } from '@app/observability';
import type { ProjectionRunner } from '@app/read-models';
import { BusyException } from '../http/busy';

export class ReadModelsBehindException extends BusyException {
  constructor(readonly position: string) {
    super(`The read models have not yet applied position ${position}; retry shortly`);
  }
}

/**
 * Waits, within a bound, until the read models have applied a position a client got from a command. A wait that
 * runs out is the client's to retry (503, Retry-After), not a fault of the service: it is counted in
 * `read_your_writes_timeouts_total` and logged at debug, so a client asking for a position far beyond the log
 * cannot fill the error log.
 */
@Injectable()
export class ReadYourWrites {
  private readonly logger = new Logger('ReadYourWrites');

  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async await(minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    if (!(await this.runner.waitFor(BigInt(minPosition), this.config.readModelWaitMs))) {
      this.metrics.readYourWritesTimeouts.inc();
      this.logger.debug({ msg: 'read models behind minPosition', minPosition, waitedMs: this.config.readModelWaitMs });
      throw new ReadModelsBehindException(minPosition);
    }
  }
}
