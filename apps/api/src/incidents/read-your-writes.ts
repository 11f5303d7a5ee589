import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { beyondTheLog, EVENT_STORE, type EventStore } from '@app/event-store';
import { PROJECTION_RUNNER } from '@app/incidents';
import { Metrics } from '@app/observability';
import type { ProjectionRunner } from '@app/read-models';
import { BusyException } from '../http/busy';
import { ValidationProblemException } from '../http/validation';

export class ReadModelsBehindException extends BusyException {
  constructor(readonly position: string) {
    super(`The read models have not yet applied position ${position}; retry shortly`);
  }
}

/**
 * Waits, within a bound, until the read models have applied a position a client got from a command. A wait that
 * runs out is the client's to retry (503, Retry-After), not a fault of the service: it is counted in
 * `read_your_writes_timeouts_total` and logged at debug, so that it cannot fill the error log. A position beyond the
 * end of the log did not come from a command (every acknowledged append is in the log's head) and can only be
 * reached by writes still to come: it is refused at once (400) instead of holding the request for the whole wait.
 */
@Injectable()
export class ReadYourWrites {
  private readonly logger = new Logger('ReadYourWrites');

  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async await(minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    const position = BigInt(minPosition);
    if (await this.runner.waitFor(position, 0)) return;
    if (await beyondTheLog(this.store, position)) {
      const head = await this.store.headPosition();
      throw new ValidationProblemException([
        { field: 'minPosition', message: `must be a position from a command, not beyond the end of the log (${head})` },
      ]);
    }
    if (!(await this.runner.waitFor(position, this.config.readModelWaitMs))) {
      this.metrics.readYourWritesTimeouts.inc();
      this.logger.debug({ msg: 'read models behind minPosition', minPosition, waitedMs: this.config.readModelWaitMs });
      throw new ReadModelsBehindException(minPosition);
    }
  }
}
