import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, isIncidentId, streamIdOf, type LinkIncident } from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { CommandContext, CommandResult } from '../command-context';
import { IncidentCommandExecutor } from '../incident-command.executor';

export class LinkIncidentCommand {
  constructor(
    readonly incidentId: string,
    readonly payload: LinkIncident['data'],
    readonly context: CommandContext,
  ) {}
}

/** A link must name an incident that exists; that is a fact about another stream, so the handler checks it. */
@CommandHandler(LinkIncidentCommand)
export class LinkIncidentHandler implements ICommandHandler<LinkIncidentCommand, CommandResult> {
  constructor(
    private readonly executor: IncidentCommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ incidentId, payload, context }: LinkIncidentCommand): Promise<CommandResult> {
    if (isIncidentId(payload.incidentId) && payload.incidentId !== incidentId) {
      const target = await this.store.readStream(streamIdOf(payload.incidentId), { limit: 1 });
      if (target.length === 0) throw DomainError.invalid('incidentId', 'must name an existing incident');
    }
    return this.executor.execute(incidentId, { type: 'LinkIncident', data: payload }, context);
  }
}
