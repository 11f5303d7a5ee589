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
import type { ClaimFields, DetailsChanges, FactChanges, Impact, IncidentEvent, Source } from './events';
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
  requireTechniques,
  requireText,
} from './rules';
import {
  amendedOriginal,
  compareStatusPeriods,
  factContentAt,
  resolveAssertedAt,
  resolveDetails,
  resolveImpact,
  type FactContent,
  type FactState,
  type IncidentState,
  type StatusPeriod,
} from './state';
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
      return reviseDetails(command, state, context);
    case 'RecordFact':
      return recordFact(command, state, context);
    case 'CorrectFact':
      return correctFact(command, state, context);
    case 'RetractFact':
      return retractFact(command, state, context);
    case 'ChangeStatus':
      return changeStatus(command, state, context);
    case 'AssessImpact':
      return assessImpact(command, state, context);
    case 'LinkIncident':
      return linkIncident(command, state, context);
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

/** The claim fields of a command, checked: `assertedAt` kept as given, sources validated. */
function claimFields(data: ClaimFields, now: string): ClaimFields {
  return {
    ...(data.assertedAt !== undefined && { assertedAt: requirePastDate('assertedAt', data.assertedAt, now) }),
    ...(data.sources !== undefined && { sources: requireSources('sources', data.sources, now) }),
  };
}

/** When a claim being decided now will be asserted: the same default as the fold, with now as its recorded time. */
function assertedAtOf(claim: ClaimFields, now: string): string {
  return resolveAssertedAt(claim.assertedAt, claim.sources, now);
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
        ...claimFields(data, now),
      },
    },
  ];
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** A claim about the incident may not be asserted before the incident itself became public. */
function requireAfterIncident(state: IncidentState, assertedAt: string): void {
  if (assertedAt < state.assertedAt) {
    throw new DomainError(
      'asserted-before-incident',
      `assertedAt must not be before ${state.assertedAt}, when the incident became public`,
      [{ field: 'assertedAt', message: `must not be before ${state.assertedAt}` }],
      { incidentAssertedAt: state.assertedAt },
    );
  }
}

/** Judged against the details as publicly known at the revision's own `assertedAt`. */
function reviseDetails(
  { data }: ReviseIncidentDetails,
  state: IncidentState,
  { now }: DecisionContext,
): IncidentEvent[] {
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
  const claim = claimFields(data, now);
  const reason = data.reason === undefined ? undefined : requireText('reason', data.reason, LIMITS.reasonLength);
  const assertedAt = assertedAtOf(claim, now);
  requireAfterIncident(state, assertedAt);
  const known = resolveDetails(state.details.filter((earlier) => earlier.assertedAt <= assertedAt));
  const changes: DetailsChanges = {};
  for (const key of keys) {
    if (!sameJson(proposed[key], known[key])) Object.assign(changes, { [key]: proposed[key] });
  }
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'IncidentDetailsRevised', data: { changes, ...claim, ...(reason !== undefined && { reason }) } }];
}

function recordFact({ data }: RecordFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  if (state.facts.has(data.factId)) throw new DomainError('already-exists', `Fact ${data.factId} already exists`);
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
    ...(data.techniques !== undefined && { techniques: requireTechniques('techniques', data.techniques) }),
  };
  return [{ type: FACT_EVENT_TYPES[kind], data: fact }];
}

function existingFact(state: IncidentState, factId: string): FactState {
  const fact = state.facts.get(factId);
  if (!fact)
    throw new DomainError('not-found', `Fact ${factId} not found`, [
      { field: 'factId', message: 'must name an existing fact' },
    ]);
  return fact;
}

function retracted(fact: FactState): never {
  throw new DomainError(
    'fact-retracted',
    `Fact ${fact.factId} was retracted (asserted ${fact.retraction?.assertedAt}) and cannot change`,
    [{ field: 'factId', message: 'must name a fact that is not retracted' }],
    { retractedAt: fact.retraction?.assertedAt },
  );
}

/** A claim about a fact may not be asserted before the fact itself. */
function requireAfterFact(fact: FactState, assertedAt: string): void {
  if (assertedAt < fact.firstAssertedAt) {
    throw new DomainError(
      'asserted-before-fact',
      `assertedAt must not be before ${fact.firstAssertedAt}, when the fact was asserted`,
      [{ field: 'assertedAt', message: `must not be before ${fact.firstAssertedAt}` }],
      { factAssertedAt: fact.firstAssertedAt },
    );
  }
}

/** The proposed changes that differ from what the fact said. */
function changedFields(proposed: FactChanges, current: FactContent): FactChanges {
  const effective: FactChanges = {};
  if (proposed.occurredAt !== undefined && proposed.occurredAt !== current.occurredAt)
    effective.occurredAt = proposed.occurredAt;
  if (proposed.summary !== undefined && proposed.summary !== current.summary) effective.summary = proposed.summary;
  if (proposed.confidence !== undefined && proposed.confidence !== current.confidence)
    effective.confidence = proposed.confidence;
  if (proposed.actors !== undefined && !sameJson(proposed.actors, current.actors)) effective.actors = proposed.actors;
  if (proposed.techniques !== undefined && !sameJson(proposed.techniques, current.techniques))
    effective.techniques = proposed.techniques;
  return effective;
}

function correctFact({ data }: CorrectFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const fact = existingFact(state, data.factId);
  const reason = requireText('reason', data.reason, LIMITS.reasonLength);
  const proposed: FactChanges = {};
  const { changes } = data;
  if (changes.occurredAt !== undefined) proposed.occurredAt = requireOccurredAt('occurredAt', changes.occurredAt, now);
  if (changes.summary !== undefined)
    proposed.summary = requireText('summary', changes.summary, LIMITS.factSummaryLength);
  if (changes.confidence !== undefined) proposed.confidence = requireConfidence('confidence', changes.confidence);
  if (changes.actors !== undefined) proposed.actors = requireNames('actors', changes.actors, LIMITS.actorsPerFact);
  if (changes.techniques !== undefined) proposed.techniques = requireTechniques('techniques', changes.techniques);
  const sources = data.sources === undefined ? undefined : requireSources('sources', data.sources, now);
  const assertedAt = data.assertedAt === undefined ? undefined : requirePastDate('assertedAt', data.assertedAt, now);
  if (data.erratum === true) return amendFact(fact, proposed, sources, assertedAt, reason);
  if (Object.keys(proposed).length === 0 && sources === undefined) {
    throw DomainError.invalid(
      'body',
      'must change at least one of: occurredAt, summary, confidence, actors, techniques, sources',
    );
  }
  const claimAssertedAt = assertedAtOf({ assertedAt, sources }, now);
  requireAfterFact(fact, claimAssertedAt);
  if (fact.retraction !== null && claimAssertedAt >= fact.retraction.assertedAt) retracted(fact);
  // Judged against the fact as it stood when this correction was asserted.
  const asItStood = factContentAt(fact, claimAssertedAt);
  const effective = changedFields(proposed, asItStood);
  const citesNew = (sources ?? []).some((source) => !asItStood.sources.some((known) => sameJson(known, source)));
  if (Object.keys(effective).length === 0 && !citesNew) return [];
  // The sources are kept as cited (the fold lists each once), so the default assertedAt reads the same later.
  return [
    {
      type: 'FactCorrected',
      data: {
        factId: fact.factId,
        changes: effective,
        ...(sources !== undefined && sources.length > 0 && { sources }),
        ...(assertedAt !== undefined && { assertedAt }),
        reason,
      },
    },
  ];
}

/**
 * An erratum fixes the record of the original claim. Judged against the original as amended so far; `sources` replace
 * the original's and `assertedAt` moves it.
 */
function amendFact(
  fact: FactState,
  proposed: FactChanges,
  sources: Source[] | undefined,
  assertedAt: string | undefined,
  reason: string,
): IncidentEvent[] {
  if (Object.keys(proposed).length === 0 && sources === undefined && assertedAt === undefined) {
    throw DomainError.invalid(
      'body',
      'must change at least one of: occurredAt, summary, confidence, actors, techniques, sources, assertedAt',
    );
  }
  const original = amendedOriginal(fact);
  const effective = changedFields(proposed, original);
  const newSources = sources !== undefined && !sameJson(sources, original.sources) ? sources : undefined;
  const newAssertedAt =
    assertedAt !== undefined && resolveAssertedAt(assertedAt, undefined, original.assertedAt) !== original.assertedAt
      ? assertedAt
      : undefined;
  if (newAssertedAt !== undefined) {
    const firstLater = [...fact.corrections, ...(fact.retraction ? [fact.retraction] : [])].find(
      (claim) => claim.assertedAt < resolveAssertedAt(newAssertedAt, undefined, original.assertedAt),
    );
    if (firstLater !== undefined) {
      throw new DomainError(
        'asserted-before-fact',
        `assertedAt must not be after ${firstLater.assertedAt}, when a correction or retraction of the fact was asserted`,
        [{ field: 'assertedAt', message: `must not be after ${firstLater.assertedAt}` }],
      );
    }
  }
  if (Object.keys(effective).length === 0 && newSources === undefined && newAssertedAt === undefined) return [];
  return [
    {
      type: 'FactAmended',
      data: {
        factId: fact.factId,
        changes: effective,
        ...(newSources !== undefined && { sources: newSources }),
        ...(newAssertedAt !== undefined && { assertedAt: newAssertedAt }),
        reason,
      },
    },
  ];
}

function retractFact({ data }: RetractFact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const fact = existingFact(state, data.factId);
  if (fact.retraction !== null) retracted(fact);
  const reason = requireText('reason', data.reason, LIMITS.reasonLength);
  const assertedAt = data.assertedAt === undefined ? undefined : requirePastDate('assertedAt', data.assertedAt, now);
  requireAfterFact(fact, assertedAtOf({ assertedAt }, now));
  return [
    {
      type: 'FactRetracted',
      data: { factId: fact.factId, reason, ...(assertedAt !== undefined && { assertedAt }) },
    },
  ];
}

function periodRef(period: StatusPeriod | undefined) {
  return period === undefined ? null : { status: period.to, effectiveAt: period.effectiveAt };
}

/**
 * Status changes form a history in valid time: a change may be inserted between two periods when the transitions
 * into it and out of it are both allowed.
 */
function changeStatus({ data }: ChangeStatus, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const to = requireStatus('status', data.status);
  const effectiveAt = data.effectiveAt === undefined ? now : requirePastInstant('effectiveAt', data.effectiveAt, now);
  const reason = data.reason === undefined ? undefined : requireText('reason', data.reason, LIMITS.reasonLength);
  const claim = claimFields(data, now);
  const history = state.statusHistory;
  // The new period goes after every period taking effect at or before it (it will have the highest position).
  const probe = { effectiveAt, position: Number.MAX_SAFE_INTEGER };
  const index = history.findIndex((period) => compareStatusPeriods(period, probe) > 0);
  const before = index === -1 ? history[history.length - 1] : history[index - 1];
  const after = index === -1 ? undefined : history[index];
  if (before === undefined) {
    const first = history[0];
    throw new DomainError(
      'status-order',
      `effectiveAt must not be before ${first.effectiveAt}, when the incident's first status took effect`,
      [{ field: 'effectiveAt', message: `must not be before ${first.effectiveAt}` }],
      { before: null, after: periodRef(first) },
    );
  }
  const allowedFrom = allowedTransitions(before.to);
  const intoAllowed = allowedFrom.includes(to);
  const outOfAllowed = after === undefined || allowedTransitions(to).includes(after.to);
  if (!intoAllowed || !outOfAllowed) {
    const message = !intoAllowed
      ? `Status cannot change from ${before.to} to ${to}`
      : `Status ${to} at ${effectiveAt} cannot be followed by ${after?.to} at ${after?.effectiveAt}`;
    throw new DomainError('illegal-transition', message, [], {
      from: before.to,
      to,
      allowed: allowedFrom,
      before: periodRef(before),
      after: periodRef(after),
    });
  }
  return [
    {
      type: 'IncidentStatusChanged',
      data: { from: before.to, to, effectiveAt, ...(reason !== undefined && { reason }), ...claim },
    },
  ];
}

/** Judged against the impact as publicly known at the assessment's own `assertedAt`. */
function assessImpact({ data }: AssessImpact, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const impact: Impact = {};
  if (data.lossUsd !== undefined) impact.lossUsd = requireCount('lossUsd', data.lossUsd, false);
  if (data.records !== undefined) impact.records = requireCount('records', data.records, true);
  if (data.organisations !== undefined) impact.organisations = requireCount('organisations', data.organisations, true);
  if (Object.keys(impact).length === 0)
    throw DomainError.invalid('body', 'must name at least one of: lossUsd, records, organisations');
  const claim = claimFields(data, now);
  const assertedAt = assertedAtOf(claim, now);
  const known = resolveImpact(state.impactClaims.filter((earlier) => earlier.assertedAt <= assertedAt));
  const changed = (Object.keys(impact) as (keyof Impact)[]).some((key) => impact[key] !== known[key]);
  return changed ? [{ type: 'ImpactAssessed', data: { ...impact, ...claim } }] : [];
}

function linkIncident({ data }: LinkIncident, state: IncidentState, { now }: DecisionContext): IncidentEvent[] {
  const incidentId = requireIncidentId('incidentId', data.incidentId);
  const relation = requireRelation('relation', data.relation);
  if (incidentId === state.id) throw DomainError.invalid('incidentId', 'must name another incident');
  const reason = data.reason === undefined ? undefined : requireText('reason', data.reason, LIMITS.reasonLength);
  const claim = claimFields(data, now);
  if (state.links.some((link) => link.incidentId === incidentId && link.relation === relation)) {
    throw new DomainError('duplicate-link', `Incident is already linked to ${incidentId} as ${relation}`);
  }
  if (state.links.length >= LIMITS.linksPerIncident) {
    throw DomainError.invalid('incidentId', `must not exceed ${LIMITS.linksPerIncident} links per incident`);
  }
  return [
    {
      type: 'IncidentLinked',
      data: { incidentId, relation, ...(reason !== undefined && { reason }), ...claim },
    },
  ];
}
