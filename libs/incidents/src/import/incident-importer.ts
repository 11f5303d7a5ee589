import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import {
  canonicalJson,
  DomainError,
  foldEvents,
  streamIdOf,
  type Actor,
  type FactChanges,
  type FactState,
  type IncidentState,
} from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { toRecordedEvent } from '@app/read-models';
import { idempotencyScope, type CommandContext, type CommandResult } from '../command-context';
import {
  AssessImpactCommand,
  ChangeStatusCommand,
  CorrectFactCommand,
  LinkIncidentCommand,
  OpenIncidentCommand,
  RecordFactCommand,
  RetractFactCommand,
  ReviseIncidentDetailsCommand,
} from '../commands';
import { factIdFor } from '../ids';
import type { FactEntry, IncidentFile } from './incident-file';

export const IMPORTER: Actor = { iss: 'urn:incident-timeline:local', sub: 'importer' };

export interface ImportReport {
  id: string;
  appended: number;
  changes: string[];
  errors: string[];
}

function hash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 16);
}

/**
 * Brings the store in line with a curated incident file by appending only what is new: the opening, revised details,
 * new facts, listed corrections, revisions of edited facts, retractions, status changes and links. Every command
 * carries a deterministic Idempotency-Key, so an interrupted import can simply run again.
 */
@Injectable()
export class IncidentImporter {
  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Pass 1: everything but links (their targets may be in files not imported yet). */
  async importRecord(file: IncidentFile, correlationId = randomUUID()): Promise<ImportReport> {
    const report: ImportReport = { id: file.id, appended: 0, changes: [], errors: [] };
    const run = (label: string, key: string, command: (context: CommandContext) => object) =>
      this.run(report, label, { actor: IMPORTER, correlationId, idempotencyKey: `import:${file.id}:${key}` }, command);

    let { state, keys } = await this.load(file.id);
    if (state === null) {
      const { id, title, category, summary, victims, threatActors, status, effectiveAt, assertedAt, sources } = file;
      await run(
        'opened',
        'open',
        (c) =>
          new OpenIncidentCommand(
            { id, title, category, summary, victims, threatActors, status, effectiveAt, assertedAt, sources },
            c,
          ),
      );
    } else {
      const changes = detailChanges(file, state);
      if (Object.keys(changes).length > 0) {
        await run(
          `revised ${Object.keys(changes).join(', ')}`,
          `details:${hash(changes)}`,
          (c) => new ReviseIncidentDetailsCommand(file.id, changes, c),
        );
      }
    }
    if (file.impact && Object.keys(file.impact).length > 0) {
      await run(
        'impact assessed',
        `impact:${hash(file.impact)}`,
        (c) => new AssessImpactCommand(file.id, { ...file.impact }, c),
      );
    }
    ({ state, keys } = await this.load(file.id));
    for (const entry of file.facts ?? []) await this.importFact(file.id, entry, state, keys, run);
    for (const change of file.statusChanges ?? []) {
      const key = `status:${change.key}`;
      if (keys.has(`import:${file.id}:${key}`)) continue;
      await run(
        `status ${change.status}`,
        key,
        (c) =>
          new ChangeStatusCommand(
            file.id,
            {
              status: change.status,
              effectiveAt: change.effectiveAt,
              reason: change.reason,
              assertedAt: change.assertedAt,
              sources: change.sources,
            },
            c,
          ),
      );
    }
    return report;
  }

  /** Pass 2: links, once every incident of the import exists. */
  async importLinks(file: IncidentFile, report: ImportReport, correlationId = randomUUID()): Promise<void> {
    const { state } = await this.load(file.id);
    if (state === null) return;
    for (const link of file.links ?? []) {
      if (state.links.some((known) => known.incidentId === link.incidentId && known.relation === link.relation))
        continue;
      await this.run(
        report,
        `linked ${link.incidentId}`,
        {
          actor: IMPORTER,
          correlationId,
          idempotencyKey: `import:${file.id}:link:${link.incidentId}:${link.relation}`,
        },
        (c) =>
          new LinkIncidentCommand(
            file.id,
            {
              incidentId: link.incidentId,
              relation: link.relation,
              reason: link.reason,
              assertedAt: link.assertedAt,
              sources: link.sources,
            },
            c,
          ),
      );
    }
  }

  private async importFact(
    incidentId: string,
    entry: FactEntry,
    state: IncidentState | null,
    keys: Set<string>,
    run: (label: string, key: string, command: (context: CommandContext) => object) => Promise<void>,
  ): Promise<void> {
    const factKey = `fact:${entry.key}`;
    const factId = factIdFor(
      idempotencyScope({ actor: IMPORTER, correlationId: '', idempotencyKey: `import:${incidentId}:${factKey}` }),
    );
    const existing: FactState | undefined = state?.facts.get(factId);
    if (!existing) {
      const { kind, occurredAt, summary, confidence, sources, assertedAt, actors, techniques } = entry;
      await run(
        `fact ${entry.key}`,
        factKey,
        (c) =>
          new RecordFactCommand(
            incidentId,
            { kind, occurredAt, summary, confidence, sources, assertedAt, actors, techniques },
            c,
          ),
      );
    }
    for (const correction of entry.corrections ?? []) {
      const key = `${factKey}:correction:${correction.key}`;
      if (keys.has(`import:${incidentId}:${key}`)) continue;
      await run(
        `correction ${entry.key}/${correction.key}`,
        key,
        (c) =>
          new CorrectFactCommand(
            incidentId,
            {
              factId,
              changes: { ...correction.changes },
              sources: correction.sources,
              assertedAt: correction.assertedAt,
              reason: correction.reason,
            },
            c,
          ),
      );
    }
    if (existing) {
      const revision = revisionOf(entry, existing);
      if (revision) {
        await run(
          `revised fact ${entry.key}`,
          `${factKey}:revision:${hash(revision)}`,
          (c) =>
            new CorrectFactCommand(
              incidentId,
              { factId, ...revision, reason: 'Revised in the curated incident file' },
              c,
            ),
        );
      }
    }
    if (entry.retraction && !existing?.retraction) {
      await run(
        `retracted ${entry.key}`,
        `${factKey}:retraction`,
        (c) =>
          new RetractFactCommand(
            incidentId,
            { factId, reason: entry.retraction!.reason, assertedAt: entry.retraction!.assertedAt },
            c,
          ),
      );
    }
  }

  private async run(
    report: ImportReport,
    label: string,
    context: CommandContext,
    command: (context: CommandContext) => object,
  ): Promise<void> {
    context.requestHash = hash(label);
    try {
      const result = await this.commands.execute<object, CommandResult>(command(context));
      if (result.appended) {
        report.changes.push(label);
        report.appended += 1;
      }
    } catch (error) {
      if (error instanceof DomainError) report.errors.push(`${label}: ${error.message}`);
      else throw error;
    }
  }

  private async load(incidentId: string): Promise<{ state: IncidentState | null; keys: Set<string> }> {
    const events = (await this.store.readStream(streamIdOf(incidentId))).map(toRecordedEvent);
    const keys = new Set(
      events.map((event) => event.metadata.idempotencyKey).filter((key): key is string => key !== undefined),
    );
    return { state: foldEvents(events), keys };
  }
}

function detailChanges(file: IncidentFile, state: IncidentState) {
  const changes: Partial<Pick<IncidentFile, 'title' | 'category' | 'summary' | 'victims' | 'threatActors'>> = {};
  if (file.title !== state.title) changes.title = file.title;
  if (file.category !== state.category) changes.category = file.category;
  if ((file.summary ?? '') !== state.summary) changes.summary = file.summary ?? '';
  if (canonicalJson(file.victims ?? []) !== canonicalJson(state.victims)) changes.victims = file.victims ?? [];
  if (canonicalJson(file.threatActors ?? []) !== canonicalJson(state.threatActors))
    changes.threatActors = file.threatActors ?? [];
  return changes;
}

/** What the file now says about a fact (its base overlaid with its listed corrections) that the record does not. */
function revisionOf(
  entry: FactEntry,
  fact: FactState,
): { changes: FactChanges; sources?: FactEntry['sources'] } | undefined {
  const expected: FactChanges = {
    occurredAt: entry.occurredAt,
    summary: entry.summary,
    confidence: entry.confidence ?? 'confirmed',
    actors: entry.actors ?? [],
  };
  for (const correction of entry.corrections ?? []) Object.assign(expected, correction.changes);
  const changes: FactChanges = {};
  if (expected.occurredAt !== fact.occurredAt.value) changes.occurredAt = expected.occurredAt;
  if (expected.summary !== fact.summary) changes.summary = expected.summary;
  if (expected.confidence !== fact.confidence) changes.confidence = expected.confidence;
  if (canonicalJson(expected.actors) !== canonicalJson(fact.actors)) changes.actors = expected.actors;
  const known = new Set(fact.sources.map(canonicalJson));
  const sources = (entry.sources ?? []).filter((source) => !known.has(canonicalJson(source)));
  if (Object.keys(changes).length === 0 && sources.length === 0) return undefined;
  return { changes, ...(sources.length > 0 && { sources }) };
}
