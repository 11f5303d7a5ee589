import type {
  AssessImpact,
  ChangeStatus,
  CorrectFact,
  DecisionContext,
  IncidentCommand,
  LinkIncident,
  OpenIncident,
  RecordFact,
  RetractFact,
  ReviseIncidentDetails,
} from './commands';
import { canonicalJson } from './canonical-json';
import { DomainError } from './errors';
import type { DetailsChanges, FactChanges, Impact, IncidentEvent } from './events';
import {
  requireCategory,
  requireConfidence,
  requireCount,
  requireIncidentId,
  requireKind,
  requireNames,
  requireOccurredAt,
  requirePastDate,
  requirePastInstant,
  requireRelation,
  requireSources,
  requireStatus,
  requireText,
} from './rules';
import type { FactState, IncidentState } from './state';
import { FACT_EVENT_TYPES, LIMITS, STATUS_TRANSITIONS, type IncidentStatus } from './vocabulary';

/**
 * Decides which events a command produces against the current state, or refuses it with a DomainError.
 * Pure: the clock arrives in the context, fact ids in the command.
 */
export function decide(
  command: IncidentCommand,
  state: IncidentState | null,
  context: DecisionContext,
): IncidentEvent[] {
  if (command.type === 'OpenIncident') return openIncident(command, state, context);
  if (state === null) throw new DomainError('not-found', 'Incident not found');
  switch (command.type) {
    case 'ReviseIncidentDetails':
      return reviseDetails(command, state);
    case 'RecordFact':
      return recordFact(command, state, context);
    case 'CorrectFact':
      return correctFact(command, state, context);
    case 'RetractFact':
      return retractFact(command, state, context);
    case 'ChangeStatus':
      return changeStatus(command, state, context);
    case 'AssessImpact':
      return assessImpact(command, state);
    case 'LinkIncident':
      return linkIncident(command, state);
    default:
      return assertNever(command);
  }
}

function assertNever(command: never): never {
  throw new Error(`Unhandled command: ${(command as { type: string }).type}`);
}

export function allowedTransitions(from: IncidentStatus): readonly IncidentStatus[] {
  return STATUS_TRANSITIONS[from];
}

function openIncident({ data }: OpenIncident, state: IncidentState | null, { now }: DecisionContext): IncidentEvent[] {
  const id = requireIncidentId('id', data.id);
  if (state !== null) throw new DomainError('already-exists', `Incident ${id} already exists`, [], { id });
  return [
    {
      type: 'IncidentOpened',
      data: {
        id,
        title: requireText('title', data.title, LIMITS.titleLength),
        category: requireCategory('category', data.category),
        summary:
          data.summary === undefined ? '' : requireText('summary', data.summary, LIMITS.incidentSummaryLength, 0),
        victims: data.victims === undefined ? [] : requireNames('victims', data.victims, LIMITS.victims),
        threatActors:
          data.threatActors === undefined ? [] : requireNames('threatActors', data.threatActors, LIMITS.threatActors),
        status: data.status === undefined ? 'detected' : requireStatus('status', data.status),
        effectiveAt: data.effectiveAt === undefined ? now : requirePastInstant('effectiveAt', data.effectiveAt, now),
      },
    },
  ];
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function reviseDetails({ data }: ReviseIncidentDetails, state: IncidentState): IncidentEvent[] {
  const proposed: DetailsChanges = {};
  if (data.title !== undefined) proposed.title = requireText('title', data.title, LIMITS.titleLength);
  if (data.category !== undefined) proposed.category = requireCategory('category', data.category);
  if (data.summary !== undefined)
    proposed.summary = requireText('summary', data.summary, LIMITS.incidentSummaryLength, 0);
  if (data.victims !== undefined) proposed.victims = requireNames('victims', data.victims, LIMITS.victims);
  if (data.threatActors !== undefined) {
    proposed.threatActors = requireNames('threatActors', data.threatActors, LIMITS.threatActors);
  }
  const keys = Object.keys(proposed) as (keyof DetailsChanges)[];
  if (keys.length === 0) {
    throw DomainError.invalid('body', 'must name at least one of: title, category, summary, victims, threatActors');
  }
  const changes: DetailsChanges = {};
  for (const key of keys) {
    if (!sameJson(proposed[key], state[key])) Object.assign(changes, { [key]: proposed[key] });
  }
  return Object.keys(changes).length === 0 ? [] : [{ type: 'IncidentDetailsRevised', data: { changes } }];
}

function recordFact({ data }: RecordFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  if (Object.hasOwn(state.facts, data.factId))
    throw new DomainError('already-exists', `Fact ${data.factId} already exists`);
  const kind = requireKind('kind', data.kind);
  const fact = {
    factId: data.factId,
    kind,
    occurredAt: requireOccurredAt('occurredAt', data.occurredAt, now),
    summary: requireText('summary', data.summary, LIMITS.factSummaryLength),
    confidence:
      data.confidence === undefined ? ('confirmed' as const) : requireConfidence('confidence', data.confidence),
    sources: data.sources === undefined ? [] : requireSources('sources', data.sources, now),
    ...(data.assertedAt !== undefined && { assertedAt: requirePastDate('assertedAt', data.assertedAt, now) }),
    ...(data.actors !== undefined && { actors: requireNames('actors', data.actors, LIMITS.actorsPerFact) }),
  };
  return [{ type: FACT_EVENT_TYPES[kind], data: fact }];
}

function liveFact(state: IncidentState, factId: string): FactState {
  const fact = Object.hasOwn(state.facts, factId) ? state.facts[factId] : undefined;
  if (!fact)
    throw new DomainError('not-found', `Fact ${factId} not found`, [
      { field: 'factId', message: 'must name an existing fact' },
    ]);
  if (fact.retraction) {
    throw new DomainError('fact-retracted', `Fact ${factId} was retracted and cannot change`, [
      { field: 'factId', message: 'must name a fact that is not retracted' },
    ]);
  }
  return fact;
}

function correctFact({ data }: CorrectFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const fact = liveFact(state, data.factId);
  const reason = requireText('reason', data.reason, LIMITS.reasonLength);
  const proposed: FactChanges = {};
  const { changes } = data;
  if (changes.occurredAt !== undefined) proposed.occurredAt = requireOccurredAt('occurredAt', changes.occurredAt, now);
  if (changes.summary !== undefined)
    proposed.summary = requireText('summary', changes.summary, LIMITS.factSummaryLength);
  if (changes.confidence !== undefined) proposed.confidence = requireConfidence('confidence', changes.confidence);
  if (changes.actors !== undefined) proposed.actors = requireNames('actors', changes.actors, LIMITS.actorsPerFact);
  const sources = data.sources === undefined ? undefined : requireSources('sources', data.sources, now);
  const assertedAt = data.assertedAt === undefined ? undefined : requirePastDate('assertedAt', data.assertedAt, now);
  if (Object.keys(proposed).length === 0 && sources === undefined) {
    throw DomainError.invalid('body', 'must change at least one of: occurredAt, summary, confidence, actors, sources');
  }
  const effective: FactChanges = {};
  if (proposed.occurredAt !== undefined && proposed.occurredAt !== fact.occurredAt.value)
    effective.occurredAt = proposed.occurredAt;
  if (proposed.summary !== undefined && proposed.summary !== fact.summary) effective.summary = proposed.summary;
  if (proposed.confidence !== undefined && proposed.confidence !== fact.confidence)
    effective.confidence = proposed.confidence;
  if (proposed.actors !== undefined && !sameJson(proposed.actors, fact.actors)) effective.actors = proposed.actors;
  const newSources = sources?.filter((source) => !fact.sources.some((known) => sameJson(known, source)));
  if (Object.keys(effective).length === 0 && (newSources === undefined || newSources.length === 0)) return [];
  return [
    {
      type: 'FactCorrected',
      data: {
        factId: fact.factId,
        changes: effective,
        ...(newSources !== undefined && newSources.length > 0 && { sources: newSources }),
        ...(assertedAt !== undefined && { assertedAt }),
        reason,
      },
    },
  ];
}

function retractFact({ data }: RetractFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const fact = liveFact(state, data.factId);
  return [
    {
      type: 'FactRetracted',
      data: {
        factId: fact.factId,
        reason: requireText('reason', data.reason, LIMITS.reasonLength),
        ...(data.assertedAt !== undefined && { assertedAt: requirePastDate('assertedAt', data.assertedAt, now) }),
      },
    },
  ];
}

function changeStatus({ data }: ChangeStatus, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const to = requireStatus('status', data.status);
  const allowed = allowedTransitions(state.status);
  if (!allowed.includes(to)) {
    throw new DomainError('illegal-transition', `Status cannot change from ${state.status} to ${to}`, [], {
      from: state.status,
      to,
      allowed,
    });
  }
  const effectiveAt = data.effectiveAt === undefined ? now : requirePastInstant('effectiveAt', data.effectiveAt, now);
  if (effectiveAt < state.statusEffectiveAt) {
    throw new DomainError(
      'status-order',
      `effectiveAt must not be before ${state.statusEffectiveAt}, when the current status took effect`,
      [{ field: 'effectiveAt', message: `must not be before ${state.statusEffectiveAt}` }],
      { currentEffectiveAt: state.statusEffectiveAt },
    );
  }
  const reason = data.reason === undefined ? undefined : requireText('reason', data.reason, LIMITS.reasonLength);
  return [
    {
      type: 'IncidentStatusChanged',
      data: { from: state.status, to, effectiveAt, ...(reason !== undefined && { reason }) },
    },
  ];
}

function assessImpact({ data }: AssessImpact, state: IncidentState): IncidentEvent[] {
  const impact: Impact = {};
  if (data.lossUsd !== undefined) impact.lossUsd = requireCount('lossUsd', data.lossUsd, false);
  if (data.records !== undefined) impact.records = requireCount('records', data.records, true);
  if (data.organisations !== undefined) impact.organisations = requireCount('organisations', data.organisations, true);
  if (Object.keys(impact).length === 0)
    throw DomainError.invalid('body', 'must name at least one of: lossUsd, records, organisations');
  const changed = (Object.keys(impact) as (keyof Impact)[]).some((key) => impact[key] !== state.impact[key]);
  return changed ? [{ type: 'ImpactAssessed', data: impact }] : [];
}

function linkIncident({ data }: LinkIncident, state: IncidentState): IncidentEvent[] {
  const incidentId = requireIncidentId('incidentId', data.incidentId);
  const relation = requireRelation('relation', data.relation);
  if (incidentId === state.id) throw DomainError.invalid('incidentId', 'must name another incident');
  if (state.links.some((link) => link.incidentId === incidentId && link.relation === relation)) {
    throw new DomainError('duplicate-link', `Incident is already linked to ${incidentId} as ${relation}`);
  }
  if (state.links.length >= LIMITS.linksPerIncident) {
    throw DomainError.invalid('incidentId', `must not exceed ${LIMITS.linksPerIncident} links per incident`);
  }
  return [{ type: 'IncidentLinked', data: { incidentId, relation } }];
}
