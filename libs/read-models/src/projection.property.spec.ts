import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CATEGORIES,
  CONFIDENCES,
  CURRENT_SCHEMA_VERSION,
  decide,
  DomainError,
  evolve,
  FACT_KINDS,
  RELATIONS,
  STATUSES,
  STATUS_TRANSITIONS,
  streamIdOf,
  type Category,
  type Confidence,
  type FactKind,
  type IncidentCommand,
  type IncidentEvent,
  type IncidentState,
  type IncidentStatus,
  type Relation,
  type Source,
} from '@app/domain';
import { SqliteEventStore, type StoredEvent } from '@app/event-store';
import { INCIDENT_PROJECTION_NAME, projectBatch } from './incident.projection';
import { ProjectionRunner } from './projection-runner';
import { rebuildReadModels } from './rebuild';
import { toRecordedEvent } from '@app/event-store';
import { CheckpointMovedError } from './read-model.port';
import { SqliteReadModelStore } from './sqlite.read-model-store';

const NOW = '2026-01-15T12:00:00.000Z';
const INCIDENTS = ['storm-0558', 'solarwinds-sunburst', 'moveit-2023'];
const OCCURRED = [
  '2023-06-16',
  '2023-06',
  '2023',
  '2023-05/2023-06',
  '../2023-05',
  '2023-05/..',
  '2021-04?',
  '2021~',
  '2023-XX',
  '2024-03-12',
];
const PUBLISHED = ['2023-07-11', '2023-09-06', '2024-03-12T09:00:00Z', '2024-04-02', '2023-07-14T15:00:00-07:00'];
const EFFECTIVE = ['2023-06-16T00:00:00Z', '2023-07-11T16:00:00Z', '2024-03-12T00:00:00+01:00', '2025-12-31T23:00:00Z'];
const TEXTS = ['Key captured', 'Tokens forged', 'Mail accessed at about 25 organisations', 'CSRB review', ''];

type Step =
  | { op: 'open'; incident: number; category: Category; status: IncidentStatus; effectiveAt?: string }
  | { op: 'revise'; incident: number; title?: string; category?: Category; summary?: string; victims?: string[] }
  | {
      op: 'record';
      incident: number;
      kind: FactKind;
      occurredAt: string;
      summary: string;
      confidence?: Confidence;
      published: string[];
      assertedAt?: string;
    }
  | {
      op: 'correct';
      incident: number;
      pick: number;
      occurredAt?: string;
      confidence?: Confidence;
      summary?: string;
      published?: string;
      assertedAt?: string;
    }
  | { op: 'retract'; incident: number; pick: number; assertedAt?: string }
  | { op: 'status'; incident: number; pick: number; effectiveAt?: string }
  | { op: 'impact'; incident: number; lossUsd?: number; records?: number; organisations?: number }
  | { op: 'link'; incident: number; target: number; relation: Relation };

/** Absent one time in `freq`. */
const optional = <T>(arbitrary: fc.Arbitrary<T>, freq = 5) => fc.option(arbitrary, { nil: undefined, freq });
const incident = fc.nat({ max: INCIDENTS.length - 1 });
const pick = fc.nat({ max: 20 });
const text = fc.constantFrom(...TEXTS.filter((t) => t !== ''));

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('open' as const),
    incident,
    category: fc.constantFrom(...CATEGORIES),
    status: fc.constantFrom(...STATUSES),
    effectiveAt: optional(fc.constantFrom(...EFFECTIVE)),
  }),
  fc.record({
    op: fc.constant('revise' as const),
    incident,
    title: optional(text),
    category: optional(fc.constantFrom(...CATEGORIES)),
    summary: optional(fc.constantFrom(...TEXTS)),
    victims: optional(fc.subarray(['US State Department', 'US Department of Commerce', 'Congress staff'])),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('record' as const),
      incident,
      kind: fc.constantFrom(...FACT_KINDS),
      occurredAt: fc.constantFrom(...OCCURRED),
      summary: text,
      confidence: optional(fc.constantFrom(...CONFIDENCES)),
      published: fc.subarray(PUBLISHED, { maxLength: 3 }),
      assertedAt: optional(fc.constantFrom(...PUBLISHED)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('correct' as const),
      incident,
      pick,
      occurredAt: optional(fc.constantFrom(...OCCURRED)),
      confidence: optional(fc.constantFrom(...CONFIDENCES)),
      summary: optional(text),
      published: optional(fc.constantFrom(...PUBLISHED)),
      assertedAt: optional(fc.constantFrom(...PUBLISHED)),
    }),
  },
  fc.record({
    op: fc.constant('retract' as const),
    incident,
    pick,
    assertedAt: optional(fc.constantFrom(...PUBLISHED)),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      incident,
      pick,
      effectiveAt: optional(fc.constantFrom(...EFFECTIVE), 2),
    }),
  },
  fc.record({
    op: fc.constant('impact' as const),
    incident,
    lossUsd: optional(fc.constantFrom(0, 1250.5, 1e6)),
    records: optional(fc.nat({ max: 100_000 })),
    organisations: optional(fc.constantFrom(1, 25, 500)),
  }),
  fc.record({
    op: fc.constant('link' as const),
    incident,
    target: fc.nat({ max: INCIDENTS.length }),
    relation: fc.constantFrom(...RELATIONS),
  }),
);

const sourcesFrom = (published: string[]): Source[] =>
  published.map((publishedAt, index) => ({ url: `https://example.org/advisories/${index}`, publishedAt }));

/**
 * Turns an abstract step into a command against the current state. Steps on an incident that does not exist yet open
 * it, so most sequences build a real history; the command may still be refused, which appends nothing.
 */
function commandFor(s: Step, state: IncidentState | null, nextFactId: () => string): IncidentCommand {
  const id = INCIDENTS[s.incident];
  if (s.op === 'open' || state === null) {
    const open = s.op === 'open' ? s : { category: 'other' as const, status: undefined, effectiveAt: EFFECTIVE[0] };
    return {
      type: 'OpenIncident',
      data: {
        id,
        title: `Incident ${id}`,
        category: open.category,
        status: open.status,
        effectiveAt: open.effectiveAt,
      },
    };
  }
  const facts = [...state.facts.keys()];
  switch (s.op) {
    case 'revise':
      return {
        type: 'ReviseIncidentDetails',
        data: { title: s.title, category: s.category, summary: s.summary, victims: s.victims },
      };
    case 'record':
      return {
        type: 'RecordFact',
        data: {
          factId: nextFactId(),
          kind: s.kind,
          occurredAt: s.occurredAt,
          summary: s.summary,
          confidence: s.confidence,
          sources: sourcesFrom(s.published),
          assertedAt: s.assertedAt,
        },
      };
    case 'correct':
      if (facts.length === 0)
        return commandFor(
          { ...s, op: 'record', kind: 'other', occurredAt: '2023', summary: 'x', published: [] },
          state,
          nextFactId,
        );
      return {
        type: 'CorrectFact',
        data: {
          factId: facts[s.pick % facts.length],
          changes: { occurredAt: s.occurredAt, confidence: s.confidence, summary: s.summary },
          sources: s.published === undefined ? undefined : sourcesFrom([s.published]),
          assertedAt: s.assertedAt,
          reason: 'Newer analysis',
        },
      };
    case 'retract':
      if (facts.length === 0) return { type: 'AssessImpact', data: { organisations: s.pick } };
      return {
        type: 'RetractFact',
        data: { factId: facts[s.pick % facts.length], reason: 'Withdrawn by the source', assertedAt: s.assertedAt },
      };
    case 'status': {
      const allowed = STATUS_TRANSITIONS[state.status];
      return { type: 'ChangeStatus', data: { status: allowed[s.pick % allowed.length], effectiveAt: s.effectiveAt } };
    }
    case 'impact':
      return { type: 'AssessImpact', data: { lossUsd: s.lossUsd, records: s.records, organisations: s.organisations } };
    case 'link':
      return {
        type: 'LinkIncident',
        data: { incidentId: INCIDENTS[s.target] ?? 'unknown-incident', relation: s.relation },
      };
    default: {
      const unhandled: never = s;
      throw new Error(`Unhandled step ${JSON.stringify(unhandled)}`);
    }
  }
}

interface World {
  dir: string;
  store: SqliteEventStore;
  incremental: SqliteReadModelStore;
  live: SqliteReadModelStore;
  runner: ProjectionRunner;
  dispose(): Promise<void>;
}

function openWorld(): World {
  const dir = mkdtempSync(join(tmpdir(), 'projection-property-'));
  let tick = 0;
  // Recorded time is the store's, one second per append, so recordedAt, updatedAt and asserted defaults vary.
  const store = new SqliteEventStore({
    filename: join(dir, 'events.db'),
    clock: () => new Date(Date.parse(NOW) + 1000 * tick++),
  });
  const incremental = new SqliteReadModelStore(join(dir, 'incremental.db'));
  const live = new SqliteReadModelStore(join(dir, 'live.db'));
  const runner = new ProjectionRunner(store, live, { retryDelayMs: 10 });
  return {
    dir,
    store,
    incremental,
    live,
    runner,
    async dispose() {
      await runner.stop();
      await incremental.close();
      await live.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Decides each step against the state folded so far and appends what it decides at that state's version. */
async function runSteps(world: World, steps: Step[]): Promise<Map<string, IncidentState>> {
  const states = new Map<string, IncidentState>();
  let facts = 0;
  let events = 0;
  const nextFactId = () => `00000000-0000-4000-8000-${String((facts += 1)).padStart(12, '0')}`;
  for (const s of steps) {
    const id = INCIDENTS[s.incident];
    const state = states.get(id) ?? null;
    let decided: IncidentEvent[];
    try {
      decided = decide(commandFor(s, state, nextFactId), state, { now: NOW });
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    if (decided.length === 0) continue;
    const expected = state === null ? ('no-stream' as const) : state.version;
    await world.store.append(
      streamIdOf(id),
      decided.map((event) => ({
        eventId: `e0000000-0000-4000-8000-${String((events += 1)).padStart(12, '0')}`,
        type: event.type,
        data: event.data,
        metadata: {
          actor: { iss: 'test', sub: 'property' },
          correlationId: `c-${events}`,
          schemaVersion: CURRENT_SCHEMA_VERSION,
        },
      })),
      expected,
    );
    const appended = await world.store.readStream(streamIdOf(id), {
      fromVersion: state === null ? 0 : state.version + 1,
    });
    const next = appended.map(toRecordedEvent).reduce<IncidentState | null>(evolve, state);
    if (next !== null) states.set(id, next);
  }
  return states;
}

/** Each incident's stream folded with `evolve` from nothing, sorted by id as `dump()` is. */
async function foldStreams(store: SqliteEventStore): Promise<IncidentState[]> {
  const folds: IncidentState[] = [];
  for (const id of [...INCIDENTS].sort()) {
    const state = (await store.readStream(streamIdOf(id)))
      .map(toRecordedEvent)
      .reduce<IncidentState | null>(evolve, null);
    if (state !== null) folds.push(state);
  }
  return folds;
}

/** States as JSON reads them: facts as a plain object, whatever the shape of the map that holds them. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function chunk(log: StoredEvent[], sizes: number[]): StoredEvent[][] {
  const batches: StoredEvent[][] = [];
  for (let start = 0, i = 0; start < log.length; i += 1) {
    const size = sizes[i % sizes.length];
    batches.push(log.slice(start, start + size));
    start += size;
  }
  return batches;
}

describe('incident projection (property)', () => {
  it('incremental projection, a rebuild, a live runner and a plain fold of each stream all agree; replays change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 25 }),
        fc.record({ maxFacts: fc.integer({ min: 1, max: 8 }), maxIncidents: fc.integer({ min: 1, max: 4 }) }),
        async (steps, batchSizes, rebuildPageSize, workingSet) => {
          const world = openWorld();
          try {
            world.runner.start();
            const states = await runSteps(world, steps);
            const head = await world.store.headPosition();
            const log = await world.store.readAll({ after: 0n, limit: 10_000 });
            const folds = await foldStreams(world.store);

            // The folds agree with the states the decisions were made on.
            expect(plain(folds)).toEqual(plain([...states.keys()].sort().map((id) => states.get(id))));

            // (a) Incremental: the log in batches of random sizes, each a duplicate delivery as well.
            let after = 0n;
            for (const batch of chunk(log, batchSizes)) {
              await projectBatch(world.incremental, batch, after);
              const applied = plain(await world.incremental.dump());
              const checkpoint = await world.incremental.checkpoint(INCIDENT_PROJECTION_NAME);
              expect(checkpoint).toBe(batch[batch.length - 1].position);

              // Delivered again on top of its own checkpoint: nothing changes.
              await projectBatch(world.incremental, batch, checkpoint);
              expect(plain(await world.incremental.dump())).toEqual(applied);
              expect(await world.incremental.checkpoint(INCIDENT_PROJECTION_NAME)).toBe(checkpoint);

              // Delivered again by a writer that built on the old checkpoint: refused, nothing written.
              await expect(projectBatch(world.incremental, batch, after)).rejects.toThrow(CheckpointMovedError);
              expect(plain(await world.incremental.dump())).toEqual(applied);

              after = checkpoint;
            }
            expect(plain(await world.incremental.dump())).toEqual(plain(folds));
            expect(await world.incremental.checkpoint(INCIDENT_PROJECTION_NAME)).toBe(head);

            // (b) A rebuild of the same store from the log, with a working set small enough to be written and let go
            // of many times.
            const progress = await rebuildReadModels(world.store, world.incremental, {
              pageSize: rebuildPageSize,
              ...workingSet,
            });
            expect(progress).toMatchObject({ applied: log.length, position: head, head });
            expect(plain(await world.incremental.dump())).toEqual(plain(folds));

            // (a') The live runner, subscribed while the commands were appended.
            await expect(world.runner.waitFor(head, 5000)).resolves.toBe(true);
            expect(plain(await world.live.dump())).toEqual(plain(folds));
            expect(world.runner.failure).toBeUndefined();
          } finally {
            await world.dispose();
          }
        },
      ),
      { numRuns: 25 },
    );
    // Well under 20 s on two idle cores; the margin is for a machine busy with other suites.
  }, 60_000);
});
