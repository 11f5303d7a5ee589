import {
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, openEventStore, type EventStore } from '@app/event-store';
import { InstrumentedEventStore, Metrics } from '@app/observability';
import { ProjectionRunner, SqliteReadModelStore, type ReadModelStore } from '@app/read-models';
import { CLOCK, PROJECTION_RUNNER, READ_MODELS } from './tokens';

/**
 * The event store, the read models and the projection runner, opened from the configuration and closed in order on
 * shutdown (runner first, so no batch is cut off mid-transaction).
 */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG, Metrics],
      useFactory: async (config: AppConfig, metrics: Metrics) =>
        new InstrumentedEventStore(await openEventStore(config), metrics),
    },
    {
      provide: READ_MODELS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteReadModelStore(join(config.dataDir, 'read-models.db'));
      },
    },
    {
      provide: PROJECTION_RUNNER,
      inject: [EVENT_STORE, READ_MODELS],
      useFactory: (store: EventStore, readModels: ReadModelStore) =>
        new ProjectionRunner(store, readModels, { logger: new Logger('Projections') }),
    },
    { provide: CLOCK, useValue: () => new Date() },
  ],
  exports: [EVENT_STORE, READ_MODELS, PROJECTION_RUNNER, CLOCK],
})
export class PersistenceModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.projections) this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.readModels.close();
    await this.store.close();
  }
}
