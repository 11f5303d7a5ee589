import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ReviseIncidentDetails } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class ReviseIncidentDetailsCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: ReviseIncidentDetails['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(ReviseIncidentDetailsCommand)
export class ReviseIncidentDetailsHandler implements ICommandHandler<ReviseIncidentDetailsCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ incidentId, payload, context }: ReviseIncidentDetailsCommand): Promise<CommandResult> {
    return this.executor.execute(incidentId, { type: 'ReviseIncidentDetails', data: payload }, context);
  }
}
