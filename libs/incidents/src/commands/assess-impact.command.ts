import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AssessImpact } from '@app/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class AssessImpactCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: AssessImpact['data'],
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(AssessImpactCommand)
export class AssessImpactHandler implements ICommandHandler<AssessImpactCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  execute({ incidentId, payload, context }: AssessImpactCommand): Promise<CommandResult> {
    return this.executor.execute(incidentId, { type: 'AssessImpact', data: payload }, context);
  }
}
