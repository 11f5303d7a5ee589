import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { OpenIncident } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class OpenIncidentCommand {
  constructor(
    readonly payload: OpenIncident['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(OpenIncidentCommand)
export class OpenIncidentHandler implements ICommandHandler<OpenIncidentCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ payload, context }: OpenIncidentCommand): Promise<CommandResult> {
    return this.executor.execute(payload.id, { type: 'OpenIncident', data: payload }, context);
  }
}
