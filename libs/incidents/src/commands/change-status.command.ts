import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ChangeStatus } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class ChangeStatusCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: ChangeStatus['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(ChangeStatusCommand)
export class ChangeStatusHandler implements ICommandHandler<ChangeStatusCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ incidentId, payload, context }: ChangeStatusCommand): Promise<CommandResult> {
    return this.executor.execute(incidentId, { type: 'ChangeStatus', data: payload }, context);
  }
}
