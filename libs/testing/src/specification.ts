import {
  decide,
  evolve,
  DomainError,
  type DecisionContext,
  type IncidentCommand,
  type IncidentEvent,
  type IncidentState,
  type RecordedEvent,
} from '@app/domain';

const NOW = '2026-01-15T12:00:00.000Z';

/** Gives domain events the envelope the store would, in order, one millisecond apart. */
export function recorded(events: IncidentEvent[], start = Date.parse('2026-01-01T00:00:00.000Z')): RecordedEvent[] {
  return events.map(
    (event, index) =>
      ({
        ...event,
        eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        streamId: 'incident-test',
        version: index,
        position: BigInt(index + 1),
        recordedAt: new Date(start + index).toISOString(),
        metadata: { actor: { iss: 'test', sub: 'tester' }, correlationId: 'test', schemaVersion: 1 },
      }) as RecordedEvent,
  );
}

export function stateOf(events: IncidentEvent[]): IncidentState | null {
  return recorded(events).reduce<IncidentState | null>(evolve, null);
}

/**
 * Given/when/then for the decider: given earlier events, when a command is decided, then these events, or this
 * refusal.
 */
export function given(...history: IncidentEvent[]) {
  return {
    when(command: IncidentCommand, context: DecisionContext = { now: NOW }) {
      const run = () => decide(command, stateOf(history), context);
      return {
        then(expected: IncidentEvent[]) {
          expect(run()).toEqual(expected);
        },
        thenRefused(code: DomainError['code'], field?: string) {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(DomainError);
          expect((caught as DomainError).code).toBe(code);
          if (field !== undefined) expect((caught as DomainError).errors.map((e) => e.field)).toContain(field);
        },
      };
    },
  };
}

export const TEST_NOW = NOW;
