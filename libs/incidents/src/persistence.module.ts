import {
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { join } from 'node:path';
import { APP_CONFIG, prepareDataDir, secureDatabaseFile, type AppConfig } from '@app/config';
import { EVENT_STORE, openEventStore, type EventStore } from '@app/event-store';
import { InstrumentedEventStore, Metrics } from '@app/observability';
import { ProjectionRunner, SqliteReadModelStore } from '@app/read-models';
import { CLOCK, PROJECTION_RUNNER, READ_MODELS } from './tokens';

/**
 * The event store, the read models and the projection runner, opened from the configuration and closed in order on
 * shutdown (runner first, so no batch is cut off mid-transaction). DATA_DIR is made (or checked) private and every
 * database file 0600 before a store opens it.
 */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG, Metrics],
      useFactory: async (config: AppConfig, metrics: Metrics) => {
        prepareDataDir(config.dataDir, { allowShared: config.dataDirAllowShared });
        const file = join(config.dataDir, 'events.db');
        if (config.eventStore === 'sqlite') secureDatabaseFile(file);
        const store = await openEventStore(config);
        if (config.eventStore === 'sqlite') secureDatabaseFile(file);
        return new InstrumentedEventStore(store, metrics);
      },
    },
    {
      provide: READ_MODELS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        prepareDataDir(config.dataDir, { allowShared: config.dataDirAllowShared });
        const file = join(config.dataDir, 'read-models.db');
        secureDatabaseFile(file);
        const readModels = new SqliteReadModelStore(file);
        secureDatabaseFile(file);
        return readModels;
      },
    },
    {
      provide: PROJECTION_RUNNER,
      inject: [EVENT_STORE, READ_MODELS],
      useFactory: (store: EventStore, readModels: SqliteReadModelStore) =>
        new ProjectionRunner(store, readModels, new Logger('Projections')),
    },
    { provide: CLOCK, useValue: () => new Date() },
  ],
  exports: [EVENT_STORE, READ_MODELS, PROJECTION_RUNNER, CLOCK],
})
export class PersistenceModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: SqliteReadModelStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.projections) this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    this.readModels.close();
    await this.store.close();
  }
}
