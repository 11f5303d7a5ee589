import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RecordFact } from '@app/domain';
import { idempotencyScope, type CommandContext, type CommandResult } from '../command-context';
import { factIdFor } from '../ids';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class RecordFactCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: Omit<RecordFact['data'], 'factId'>,
    readonly context: CommandContext,
  ) {}
}

/** Assigns the fact id: random, or derived from the Idempotency-Key so that a retry names the same fact. */
@CommandHandler(RecordFactCommand)
export class RecordFactHandler implements ICommandHandler<RecordFactCommand, CommandResult> {
  constructor(private readonly executor: IncidentCommandExecutor) {}

  async execute({ incidentId, payload, context }: RecordFactCommand): Promise<CommandResult> {
    const factId = factIdFor(idempotencyScope(context));
    const result = await this.executor.execute(
      incidentId,
      { type: 'RecordFact', data: { ...payload, factId } },
      context,
    );
    return { factId, ...result };
  }
}
