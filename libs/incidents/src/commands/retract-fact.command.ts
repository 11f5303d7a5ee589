import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RetractFact } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class RetractFactCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: RetractFact['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(RetractFactCommand)
export class RetractFactHandler implements ICommandHandler<RetractFactCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ incidentId, payload, context }: RetractFactCommand): Promise<CommandResult> {
    return this.executor.execute(incidentId, { type: 'RetractFact', data: payload }, context);
  }
}
