import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CorrectFact } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class CorrectFactCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: CorrectFact['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(CorrectFactCommand)
export class CorrectFactHandler implements ICommandHandler<CorrectFactCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ incidentId, payload, context }: CorrectFactCommand): Promise<CommandResult> {
    return this.executor.execute(incidentId, { type: 'CorrectFact', data: payload }, context);
  }
}
