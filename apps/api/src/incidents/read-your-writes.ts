import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { PROJECTION_RUNNER } from '@app/incidents';
import type { ProjectionRunner } from '@app/read-models';

export class ReadModelsBehindException extends ServiceUnavailableException {
  constructor(readonly position: string) {
    super(`The read models have not yet applied position ${position}; retry shortly`);
  }
}

/** Waits, within a bound, until the read models have applied a position a client got from a command. */
@Injectable()
export class ReadYourWrites {
  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async await(minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    if (!(await this.runner.waitFor(BigInt(minPosition), this.config.readModelWaitMs))) {
      throw new ReadModelsBehindException(minPosition);
    }
  }
}
