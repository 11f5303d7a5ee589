import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import {
  amendedOriginal,
  canonicalJson,
  DomainError,
  factContentAt,
  foldEvents,
  instantMs,
  resolveAssertedAt,
  resolveDetails,
  resolveImpact,
  streamIdOf,
  type Actor,
  type DetailsChanges,
  type FactChanges,
  type FactState,
  type Impact,
  type IncidentState,
  type RecordedEvent,
} from '@app/domain';
import { EVENT_STORE, toRecordedEvent, type EventStore } from '@app/event-store';
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
import type { ClaimEntry, FactEntry, IncidentFile } from './incident-file';

export const IMPORTER: Actor = { iss: 'urn:incident-timeline:local', sub: 'importer' };

export interface ImportReport {
  id: string;
  appended: number;
  changes: string[];
  /** What the file says that the record cannot be brought to say (a claim that cannot be amended or withdrawn). */
  warnings: string[];
  errors: string[];
}

const ERRATUM_REASON = 'Erratum: the original claim as it should have been recorded (curated incident file)';
const RESTATED_REASON =
  'Restates what was public at this time: an earlier import recorded this claim wrongly, and a stored claim cannot be amended or withdrawn';

function hash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 16);
}

/** When a claim of the file became public, as the domain resolves it; undefined when it carries no date at all. */
function claimTime(claim: ClaimEntry): string | undefined {
  const dated = claim.assertedAt !== undefined || (claim.sources ?? []).some((source) => source.publishedAt);
  return dated ? resolveAssertedAt(claim.assertedAt, claim.sources, '') : undefined;
}

/** Items with a date in asserted order (stable), then the undated ones. */
function inAssertedOrder<T extends ClaimEntry>(items: readonly T[]): { item: T; at: string | undefined }[] {
  const timed = items.map((item) => ({ item, at: claimTime(item) }));
  return [
    ...timed.filter((entry) => entry.at !== undefined).sort((a, b) => (a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : 0)),
    ...timed.filter((entry) => entry.at === undefined),
  ];
}

function uniqueSorted(times: Iterable<string>): string[] {
  return [...new Set(times)].sort();
}

type Run = (
  label: string,
  key: string,
  payload: unknown,
  command: (context: CommandContext) => object,
) => Promise<void>;

interface Loaded {
  state: IncidentState | null;
  events: RecordedEvent[];
  keys: Set<string>;
}

/**
 * Brings the store in line with a curated incident file by appending only what differs. Every claim of the file keeps
 * its own `assertedAt` and sources. A fact's base fields are its original claim as it should have been recorded, so a
 * difference from the stored original is an erratum (FactAmended); its `corrections` are public corrections. Where a
 * stored claim cannot be amended (an incident's opening, a details revision, an impact assessment, a correction), the
 * importer restates the file's value at that claim's own asserted time, so every `knownAt` view from then on reads as
 * the file does. Every command carries a deterministic Idempotency-Key, so an import can simply run again.
 */
@Injectable()
export class IncidentImporter {
  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Pass 1: everything but links (their targets may be in files not imported yet). */
  async importRecord(file: IncidentFile, correlationId = randomUUID()): Promise<ImportReport> {
    const report: ImportReport = { id: file.id, appended: 0, changes: [], warnings: [], errors: [] };
    let loaded = await this.load(file.id);
    // A key already in the record is never sent again: what it said is reconciled from the record's state instead.
    const stored = loaded.keys;
    const run: Run = async (label, key, payload, command) => {
      if (stored.has(`import:${file.id}:${key}`)) return;
      stored.add(`import:${file.id}:${key}`);
      await this.run(
        report,
        label,
        {
          actor: IMPORTER,
          correlationId,
          idempotencyKey: `import:${file.id}:${key}`,
          requestHash: hash({ key, payload }),
        },
        command,
      );
    };

    if (loaded.state === null) {
      const { id, title, category, summary, victims, threatActors, status, effectiveAt, assertedAt, sources } = file;
      const payload = { id, title, category, summary, victims, threatActors, status, effectiveAt, assertedAt, sources };
      await run('opened', 'open', payload, (c) => new OpenIncidentCommand(payload, c));
      loaded = await this.load(file.id);
      if (loaded.state === null) return report;
    } else {
      this.checkOpening(file, loaded, report);
    }
    await this.importDetails(file, loaded.state!, run, report);
    await this.importImpact(file, run, report);
    loaded = await this.load(file.id);
    for (const entry of file.facts ?? []) await this.importFact(file.id, entry, loaded, run, report);
    await this.importStatusChanges(file, run, report);
    return report;
  }

  /** Pass 2: links, once every incident of the import exists. */
  async importLinks(file: IncidentFile, report: ImportReport, correlationId = randomUUID()): Promise<void> {
    const { state, events } = await this.load(file.id);
    if (state === null) return;
    const wanted = new Set<string>();
    for (const link of file.links ?? []) {
      const key = `link:${link.incidentId}:${link.relation}`;
      wanted.add(`import:${file.id}:${key}`);
      if (state.links.some((known) => known.incidentId === link.incidentId && known.relation === link.relation))
        continue;
      const payload = {
        incidentId: link.incidentId,
        relation: link.relation,
        reason: link.reason,
        assertedAt: link.assertedAt,
        sources: link.sources,
      };
      await this.run(
        report,
        `linked ${link.incidentId}`,
        { actor: IMPORTER, correlationId, idempotencyKey: `import:${file.id}:${key}`, requestHash: hash(payload) },
        (c) => new LinkIncidentCommand(file.id, payload, c),
      );
    }
    for (const event of events) {
      const key = event.metadata.idempotencyKey;
      if (event.type === 'IncidentLinked' && key?.startsWith(`import:${file.id}:link:`) && !wanted.has(key)) {
        report.warnings.push(
          `link ${event.data.relation} to ${event.data.incidentId} is in the record but no longer in the file; links cannot be withdrawn`,
        );
      }
    }
  }

  /** The opening is one claim and has no erratum: a different date or first status can only be reported. */
  private checkOpening(file: IncidentFile, { state, events }: Loaded, report: ImportReport): void {
    const opened = events.find((event) => event.type === 'IncidentOpened');
    const wanted = claimTime(file);
    if (wanted !== undefined && wanted !== state!.assertedAt) {
      report.warnings.push(
        `the record says the incident became public at ${state!.assertedAt}, the file says ${wanted}; an opening cannot be amended, so knownAt views before ${state!.assertedAt} do not show the incident`,
      );
    }
    if (opened?.type !== 'IncidentOpened') return;
    const status = file.status ?? 'detected';
    const effectiveAt = file.effectiveAt;
    if (
      opened.data.status !== status ||
      (effectiveAt !== undefined && instantMs(effectiveAt) !== instantMs(opened.data.effectiveAt))
    ) {
      report.warnings.push(
        `the record opened as ${opened.data.status} at ${opened.data.effectiveAt}, the file says ${status} at ${effectiveAt}; an opening cannot be amended`,
      );
    }
  }

  /**
   * Details as the file tells them: the opening, then each revision in asserted order. At the opening's time and at
   * every later claim time, what the record says is compared with what the file says, and restated where it differs.
   */
  private async importDetails(file: IncidentFile, opened: IncidentState, run: Run, report: ImportReport) {
    const opening: Required<DetailsChanges> = {
      title: file.title,
      category: file.category,
      summary: file.summary ?? '',
      victims: file.victims ?? [],
      threatActors: file.threatActors ?? [],
    };
    const revisions = inAssertedOrder(file.revisions ?? []);
    const expectedAt = (at: string) => {
      const details = { ...opening };
      for (const { item, at: when } of revisions)
        if (when !== undefined && when <= at) Object.assign(details, item.changes);
      return details;
    };
    const since = opened.assertedAt;
    for (const { item, at } of revisions) {
      if (at !== undefined && at < since) {
        report.warnings.push(
          `revision ${item.key} (${at}) is earlier than the record's opening (${since}); it shows from the opening on`,
        );
      }
    }
    let state = opened;
    let loadedAt = report.appended;
    const times = uniqueSorted([
      since,
      ...state.details.map((claim) => claim.assertedAt).filter((at) => at > since),
      ...revisions.flatMap(({ at }) => (at !== undefined && at > since ? [at] : [])),
    ]);
    for (const time of times) {
      for (const { item, at } of revisions) {
        if (at !== time || time === since) continue;
        const payload = { ...item.changes, assertedAt: item.assertedAt, sources: item.sources, reason: item.reason };
        await run(`revised details (${item.key})`, `details:${item.key}`, payload, (c) => {
          return new ReviseIncidentDetailsCommand(file.id, payload, c);
        });
      }
      if (report.appended !== loadedAt) [state, loadedAt] = [(await this.load(file.id)).state!, report.appended];
      const stored = resolveDetails(state.details.filter((claim) => claim.assertedAt <= time));
      const expected = expectedAt(time);
      const changes: DetailsChanges = {};
      for (const field of Object.keys(expected) as (keyof DetailsChanges)[]) {
        if (canonicalJson(expected[field]) !== canonicalJson(stored[field]))
          Object.assign(changes, { [field]: expected[field] });
      }
      if (Object.keys(changes).length === 0) continue;
      const payload = { ...changes, assertedAt: time, reason: RESTATED_REASON };
      await run(
        `restated details at ${time}`,
        `details:restated:${time}:${hash(changes)}`,
        payload,
        (c) => new ReviseIncidentDetailsCommand(file.id, payload, c),
      );
    }
    for (const { item, at } of revisions) {
      if (at !== undefined) continue;
      const payload = { ...item.changes, sources: item.sources, reason: item.reason };
      await run(`revised details (${item.key})`, `details:${item.key}`, payload, (c) => {
        return new ReviseIncidentDetailsCommand(file.id, payload, c);
      });
    }
  }

  /** Impact as assessed over time, restated where the record differs (as for details). */
  private async importImpact(file: IncidentFile, run: Run, report: ImportReport) {
    if (file.impact && Object.keys(file.impact).length > 0) {
      const payload = { ...file.impact };
      await run('impact assessed', `impact:${hash(file.impact)}`, payload, (c) => {
        return new AssessImpactCommand(file.id, payload, c);
      });
      return;
    }
    const assessments = inAssertedOrder(file.impactAssessments ?? []);
    if (assessments.length === 0) return;
    const impactOf = (entry: Impact): Impact => {
      const { lossUsd, records, organisations } = entry;
      return {
        ...(lossUsd !== undefined && { lossUsd }),
        ...(records !== undefined && { records }),
        ...(organisations !== undefined && { organisations }),
      };
    };
    let state = (await this.load(file.id)).state!;
    let loadedAt = report.appended;
    const times = uniqueSorted([
      ...state.impactClaims.map((claim) => claim.assertedAt),
      ...assessments.flatMap(({ at }) => (at !== undefined ? [at] : [])),
    ]);
    for (const time of times) {
      for (const { item, at } of assessments) {
        if (at !== time) continue;
        const payload = { ...impactOf(item), assertedAt: item.assertedAt, sources: item.sources };
        await run(`impact assessed (${item.key})`, `impact:${item.key}`, payload, (c) => {
          return new AssessImpactCommand(file.id, payload, c);
        });
      }
      if (report.appended !== loadedAt) [state, loadedAt] = [(await this.load(file.id)).state!, report.appended];
      const stored = resolveImpact(state.impactClaims.filter((claim) => claim.assertedAt <= time));
      const expected: Impact = {};
      for (const { item, at } of assessments)
        if (at !== undefined && at <= time) Object.assign(expected, impactOf(item));
      const changes: Impact = {};
      for (const field of Object.keys(expected) as (keyof Impact)[]) {
        if (expected[field] !== stored[field]) changes[field] = expected[field];
      }
      if (Object.keys(changes).length === 0) continue;
      const payload = { ...changes, assertedAt: time };
      await run(`restated impact at ${time}`, `impact:restated:${time}:${hash(changes)}`, payload, (c) => {
        return new AssessImpactCommand(file.id, payload, c);
      });
    }
    for (const { item, at } of assessments) {
      if (at !== undefined) continue;
      const payload = { ...impactOf(item), sources: item.sources };
      await run(`impact assessed (${item.key})`, `impact:${item.key}`, payload, (c) => {
        return new AssessImpactCommand(file.id, payload, c);
      });
    }
  }

  private async importFact(
    incidentId: string,
    entry: FactEntry,
    loaded: Loaded,
    run: Run,
    report: ImportReport,
  ): Promise<void> {
    const factKey = `fact:${entry.key}`;
    const factId = factIdFor(
      idempotencyScope({ actor: IMPORTER, correlationId: '', idempotencyKey: `import:${incidentId}:${factKey}` }),
    );
    const base = {
      occurredAt: entry.occurredAt,
      summary: entry.summary,
      confidence: entry.confidence ?? 'confirmed',
      actors: entry.actors ?? [],
      techniques: entry.techniques ?? [],
    };
    const existing: FactState | undefined = loaded.state?.facts.get(factId);
    if (!existing) {
      const { kind, sources, assertedAt } = entry;
      const payload = { kind, ...base, sources, assertedAt, actors: entry.actors, techniques: entry.techniques };
      await run(`fact ${entry.key}`, factKey, payload, (c) => new RecordFactCommand(incidentId, payload, c));
    } else {
      const erratum = erratumOf(entry, base, existing);
      if (erratum) {
        const payload = { factId, ...erratum, reason: ERRATUM_REASON, erratum: true };
        await run(`erratum ${entry.key}`, `${factKey}:erratum:${hash(erratum)}`, payload, (c) => {
          return new CorrectFactCommand(incidentId, payload, c);
        });
      }
    }
    const fact = async () => (await this.load(incidentId)).state?.facts.get(factId);
    let current = await fact();
    if (!current) return;
    let loadedAt = report.appended;
    const corrections = inAssertedOrder(entry.corrections ?? []);
    const expectedAt = (at: string) => {
      const content: FactChanges = { ...base };
      for (const { item, at: when } of corrections)
        if (when !== undefined && when <= at) Object.assign(content, item.changes);
      return content;
    };
    const times = uniqueSorted([
      ...current.corrections.map((correction) => correction.assertedAt),
      ...corrections.flatMap(({ at }) => (at !== undefined ? [at] : [])),
    ]);
    for (const time of times) {
      for (const { item, at } of corrections) {
        if (at !== time) continue;
        await this.correct(incidentId, factId, factKey, entry.key, item, run, loaded.keys);
      }
      if (report.appended !== loadedAt) [current, loadedAt] = [(await fact())!, report.appended];
      const stored = factContentAt(current, time);
      const expected = expectedAt(time);
      const changes: FactChanges = {};
      for (const field of Object.keys(expected) as (keyof FactChanges)[]) {
        if (canonicalJson(expected[field]) !== canonicalJson(stored[field]))
          Object.assign(changes, { [field]: expected[field] });
      }
      if (Object.keys(changes).length === 0) continue;
      const payload = { factId, changes, assertedAt: time, reason: RESTATED_REASON };
      await run(`restated ${entry.key} at ${time}`, `${factKey}:restated:${time}:${hash(changes)}`, payload, (c) => {
        return new CorrectFactCommand(incidentId, payload, c);
      });
    }
    for (const { item, at } of corrections) {
      if (at === undefined) await this.correct(incidentId, factId, factKey, entry.key, item, run, loaded.keys);
    }
    if (report.appended !== loadedAt) current = (await fact())!;
    if (entry.retraction && !current.retraction) {
      const payload = { factId, reason: entry.retraction.reason, assertedAt: entry.retraction.assertedAt };
      await run(`retracted ${entry.key}`, `${factKey}:retraction`, payload, (c) => {
        return new RetractFactCommand(incidentId, payload, c);
      });
    } else if (!entry.retraction && current.retraction) {
      report.warnings.push(`fact ${entry.key} is retracted in the record but not in the file; a retraction stands`);
    }
  }

  private async correct(
    incidentId: string,
    factId: string,
    factKey: string,
    label: string,
    item: NonNullable<FactEntry['corrections']>[number],
    run: Run,
    keys: Set<string>,
  ): Promise<void> {
    const key = `${factKey}:correction:${item.key}`;
    if (keys.has(`import:${incidentId}:${key}`)) return;
    const payload = {
      factId,
      changes: { ...item.changes },
      sources: item.sources,
      assertedAt: item.assertedAt,
      reason: item.reason,
    };
    await run(`correction ${label}/${item.key}`, key, payload, (c) => new CorrectFactCommand(incidentId, payload, c));
  }

  /**
   * Status changes are a valid-time history, applied in order of `effectiveAt`. A stored change cannot be amended or
   * withdrawn, so a difference is reported.
   */
  private async importStatusChanges(file: IncidentFile, run: Run, report: ImportReport) {
    const { events } = await this.load(file.id);
    const stored = new Map(events.map((event) => [event.metadata.idempotencyKey, event]));
    const changes = [...(file.statusChanges ?? [])].sort(
      (a, b) =>
        (a.effectiveAt === undefined ? Infinity : instantMs(a.effectiveAt)) -
        (b.effectiveAt === undefined ? Infinity : instantMs(b.effectiveAt)),
    );
    const wanted = new Set<string>();
    for (const change of changes) {
      const key = `status:${change.key}`;
      wanted.add(`import:${file.id}:${key}`);
      const earlier = stored.get(`import:${file.id}:${key}`);
      if (earlier?.type === 'IncidentStatusChanged') {
        const at = claimTime(change);
        const storedAt = resolveAssertedAt(earlier.data.assertedAt, earlier.data.sources, earlier.recordedAt);
        const moved =
          change.effectiveAt !== undefined && instantMs(change.effectiveAt) !== instantMs(earlier.data.effectiveAt);
        if (earlier.data.to !== change.status || moved || (at !== undefined && at !== storedAt)) {
          report.warnings.push(
            `status change ${change.key} is in the record as ${earlier.data.to} from ${earlier.data.effectiveAt} asserted ${storedAt}; the file says ${change.status} from ${change.effectiveAt} asserted ${at}; a status change cannot be amended`,
          );
        }
        continue;
      }
      const payload = {
        status: change.status,
        effectiveAt: change.effectiveAt,
        reason: change.reason,
        assertedAt: change.assertedAt,
        sources: change.sources,
      };
      await run(`status ${change.status} (${change.key})`, key, payload, (c) => {
        return new ChangeStatusCommand(file.id, payload, c);
      });
    }
    for (const event of events) {
      const key = event.metadata.idempotencyKey;
      if (event.type === 'IncidentStatusChanged' && key?.startsWith(`import:${file.id}:status:`) && !wanted.has(key)) {
        report.warnings.push(
          `status change ${key.slice(`import:${file.id}:status:`.length)} (${event.data.to} from ${event.data.effectiveAt}) is in the record but no longer in the file; a status change cannot be withdrawn`,
        );
      }
    }
  }

  private async run(
    report: ImportReport,
    label: string,
    context: CommandContext,
    command: (context: CommandContext) => object,
  ): Promise<void> {
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

  private async load(incidentId: string): Promise<Loaded> {
    const events = (await this.store.readStream(streamIdOf(incidentId))).map(toRecordedEvent);
    const keys = new Set(
      events.map((event) => event.metadata.idempotencyKey).filter((key): key is string => key !== undefined),
    );
    return { state: foldEvents(events), events, keys };
  }
}

/** Where the file's base fields differ from the stored original (errata included): the erratum that fixes it. */
function erratumOf(
  entry: FactEntry,
  base: Required<Pick<FactChanges, 'occurredAt' | 'summary' | 'confidence' | 'actors' | 'techniques'>>,
  fact: FactState,
): { changes: FactChanges; sources?: FactEntry['sources']; assertedAt?: string } | undefined {
  const original = amendedOriginal(fact);
  const changes: FactChanges = {};
  for (const field of Object.keys(base) as (keyof typeof base)[]) {
    if (canonicalJson(base[field]) !== canonicalJson(original[field])) Object.assign(changes, { [field]: base[field] });
  }
  const sources = entry.sources ?? [];
  const newSources = canonicalJson(sources) !== canonicalJson(original.sources);
  const at = claimTime(entry);
  const moved = at !== undefined && at !== original.assertedAt;
  if (Object.keys(changes).length === 0 && !newSources && !moved) return undefined;
  return { changes, ...(newSources && { sources }), ...(moved && { assertedAt: at }) };
}
