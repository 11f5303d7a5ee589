import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '@app/config';
import { FeedsModule } from '@app/feeds';
import { PersistenceModule } from '@app/incidents';
import { ObservabilityModule } from '@app/observability';

/** The relay process: the store (projections off, they are the API's), metrics, and the relay. */
@Module({})
export class RelayModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [
        ConfigModule.forRoot({ ...config, projections: false, relay: true }),
        ObservabilityModule,
        PersistenceModule,
        FeedsModule,
      ],
    };
  }
}
