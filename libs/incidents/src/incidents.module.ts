import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { COMMAND_HANDLERS } from './commands';
import { IncidentImporter } from './import';
import { IncidentCommandExecutor } from './incident-command.executor';
import { IncidentViews, QUERY_HANDLERS } from './queries';

/** The application layer: one thin handler per command and per query, over the persistence ports. */
@Module({
  imports: [CqrsModule],
  providers: [IncidentCommandExecutor, IncidentViews, IncidentImporter, ...COMMAND_HANDLERS, ...QUERY_HANDLERS],
  exports: [CqrsModule, IncidentViews, IncidentImporter],
})
export class IncidentsModule {}
