import {
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, openEventStore, type EventStore } from '@app/event-store';
import { InstrumentedEventStore, Metrics } from '@app/observability';
import { openReadModels, ProjectionRunner, type OpenedReadModels, type ReadModelStore } from '@app/read-models';
import { CLOCK, PROJECTION_RUNNER, READ_MODELS } from './tokens';

const OPENED_READ_MODELS = Symbol('OPENED_READ_MODELS');

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
      provide: OPENED_READ_MODELS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => openReadModels(config),
    },
    {
      provide: READ_MODELS,
      inject: [OPENED_READ_MODELS],
      useFactory: (opened: OpenedReadModels) => opened.store,
    },
    {
      provide: PROJECTION_RUNNER,
      inject: [EVENT_STORE, OPENED_READ_MODELS],
      useFactory: (store: EventStore, opened: OpenedReadModels) =>
        new ProjectionRunner(store, opened.store, { logger: new Logger('Projections'), lock: opened.lock }),
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
