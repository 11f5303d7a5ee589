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
import { openReadModels, ProjectionRunner, type OpenedReadModels, type ReadModelStore } from '@app/read-models';
import { CLOCK, PROJECTION_RUNNER, READ_MODELS } from './tokens';

const OPENED_READ_MODELS = Symbol('OPENED_READ_MODELS');

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
      provide: OPENED_READ_MODELS,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        if (config.readModelStore === 'postgres') return openReadModels(config);
        prepareDataDir(config.dataDir, { allowShared: config.dataDirAllowShared });
        const file = join(config.dataDir, 'read-models.db');
        secureDatabaseFile(file);
        const opened = await openReadModels(config);
        secureDatabaseFile(file);
        return opened;
      },
    },
    {
      provide: READ_MODELS,
      inject: [OPENED_READ_MODELS],
      useFactory: (opened: OpenedReadModels) => opened.store,
    },
    {
      provide: PROJECTION_RUNNER,
      inject: [EVENT_STORE, OPENED_READ_MODELS, Metrics],
      useFactory: (store: EventStore, opened: OpenedReadModels, metrics: Metrics) =>
        new ProjectionRunner(store, opened.store, {
          logger: new Logger('Projections'),
          lock: opened.lock,
          onParked: () => metrics.eventsParked.inc(),
        }),
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
    this.runner.start({ project: this.config.projections });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.readModels.close();
    await this.store.close();
  }
}
