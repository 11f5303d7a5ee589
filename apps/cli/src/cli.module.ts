import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '@app/config';
import { IncidentsModule, PersistenceModule } from '@app/incidents';
import { ObservabilityModule } from '@app/observability';

/** The application without HTTP: the same persistence and handlers, driven from the command line. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(config), ObservabilityModule, PersistenceModule, IncidentsModule],
    };
  }
}
