import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { ConfigModule, type AppConfig } from '@app/config';
import { FeedsModule } from '@app/feeds';
import { IncidentsModule, PersistenceModule } from '@app/incidents';
import { ObservabilityModule } from '@app/observability';
import { EventsController } from './events.controller';
import { FeedsHttpModule } from './feeds/feeds-http.module';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { ReadinessChecks } from './health/readiness';
import { RequestLogMiddleware } from './http/request-log.middleware';
import { IncidentsController } from './incidents/incidents.controller';
import { ReadYourWrites } from './incidents/read-your-writes';
import { WebModule } from './web/web.module';

const CONTROLLERS = [IncidentsController, EventsController, HealthController, MetricsController];

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule,
        AuthModule,
        PersistenceModule,
        IncidentsModule,
        FeedsModule,
        FeedsHttpModule,
        WebModule,
      ],
      controllers: CONTROLLERS,
      providers: [ReadYourWrites, ReadinessChecks],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes('*path');
  }
}
