import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, evolve, foldEvents, streamIdOf, type IncidentCommand, type IncidentState } from '@app/domain';
import { SqliteEventStore, toRecordedEvent } from '@app/event-store';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../../event-store/src/contract/postgres.fixture';
import { INCIDENT_PROJECTION_NAME } from './incident.projection';
import { PostgresReadModelStore } from './postgres.read-model-store';
import type { ReadModelStore } from './read-model.port';
import { rebuildReadModels } from './rebuild';
import { SqliteReadModelStore } from './sqlite.read-model-store';

const NOW = '2026-01-15T12:00:00.000Z';
const INCIDENTS = ['storm-0558', 'solarwinds-sunburst', 'moveit-2023', 'salt-typhoon', 'xz-backdoor'];
/** Its stream holds an event no fold can apply, halfway through. */
const POISONED = 'moveit-2023';
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

/**
 * A log of interleaved incidents: each opened, then rounds of facts, corrections of earlier facts, retractions,
 * status changes and links, so that one incident's events are spread over the whole log; one stream is poisoned.
 */
async function writeLog(store: SqliteEventStore): Promise<void> {
  const states = new Map<string, IncidentState>();
  let events = 0;
  const run = async (id: string, command: IncidentCommand) => {
    const state = states.get(id) ?? null;
    const decided = decide(command, state, { now: NOW });
    await store.append(
      streamIdOf(id),
      decided.map((event) => ({
        eventId: `e0000000-0000-4000-8000-${String((events += 1)).padStart(12, '0')}`,
        type: event.type,
        data: event.data,
        metadata: { actor: { iss: 'test', sub: 'rebuild' }, correlationId: `c-${events}`, schemaVersion: 1 },
      })),
      state === null ? 'no-stream' : state.version,
    );
    const appended = await store.readStream(streamIdOf(id), { fromVersion: state === null ? 0 : state.version + 1 });
    states.set(id, appended.map(toRecordedEvent).reduce<IncidentState | null>(evolve, state)!);
  };
  for (const id of INCIDENTS) {
    await run(id, { type: 'OpenIncident', data: { id, title: `Incident ${id}`, category: 'espionage' } });
  }
  for (let round = 0; round < 8; round += 1) {
    for (const [index, id] of INCIDENTS.entries()) {
      await run(id, {
        type: 'RecordFact',
        data: {
          factId: `f-${id}-${round}`,
          kind: round % 2 === 0 ? 'token-forgery' : 'data-access',
          occurredAt: `2023-0${1 + ((round + index) % 9)}`,
          summary: `Round ${round}`,
          techniques: round % 3 === 0 ? ['T1606.002'] : [],
          sources: [{ url: `https://example.org/${id}/${round}`, publishedAt: '2023-07-11' }],
        },
      });
      if (round >= 2) {
        await run(id, {
          type: 'CorrectFact',
          data: {
            factId: `f-${id}-${round - 2}`,
            changes: { summary: `Corrected in round ${round}` },
            reason: 'Newer analysis',
          },
        });
      }
      if (round % 2 === 1) {
        // Right after the fact it corrects: within one page, often across a flush.
        await run(id, {
          type: 'CorrectFact',
          data: { factId: `f-${id}-${round}`, changes: { occurredAt: '2022' }, reason: 'Earlier than reported' },
        });
      }
      if (round === 5 && index % 2 === 0) {
        await run(id, { type: 'RetractFact', data: { factId: `f-${id}-1`, reason: 'Withdrawn by the source' } });
      }
      if (round === 3) await run(id, { type: 'ChangeStatus', data: { status: 'investigating' } });
      if (round === 6) {
        await run(id, { type: 'LinkIncident', data: { incidentId: INCIDENTS[(index + 1) % 5], relation: 'related' } });
      }
      if (round === 4 && id === POISONED) {
        const version = states.get(id)!.version;
        await store.append(
          streamIdOf(id),
          [
            {
              eventId: 'e0000000-0000-4000-8000-poison000001',
              type: 'IncidentTeleported',
              data: { to: 'mars' },
              metadata: { actor: { iss: 'test', sub: 'hand-edit' }, correlationId: 'poison', schemaVersion: 1 },
            },
          ],
          version,
        );
        states.set(id, { ...states.get(id)!, version: version + 1 });
      }
    }
  }
}

/** What a rebuild leaves: every incident's rows, the parked incidents (without the time they were parked), the checkpoint. */
async function snapshot(readModels: ReadModelStore) {
  return {
    incidents: plain(await readModels.dump()),
    parked: (await readModels.parked()).map(({ parkedAt: _parkedAt, ...parked }) => parked),
    checkpoint: await readModels.checkpoint(INCIDENT_PROJECTION_NAME),
  };
}

function rebuildSuite(
  name: string,
  open: () => Promise<{ small: ReadModelStore; large: ReadModelStore }>,
  dispose: () => Promise<void>,
) {
  describe(`rebuild with a bounded working set: ${name}`, () => {
    let dir: string;
    let store: SqliteEventStore;
    let small: ReadModelStore;
    let large: ReadModelStore;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rebuild-'));
      store = new SqliteEventStore({ filename: join(dir, 'events.db') });
      await writeLog(store);
      ({ small, large } = await open());
    });

    afterAll(async () => {
      await small?.close();
      await large?.close();
      await store?.close();
      await dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes the same rows with a working set of one fact and one incident as with one holding the whole log', async () => {
      const head = await store.headPosition();
      const tiny = await rebuildReadModels(store, small, { pageSize: 3, maxFacts: 1, maxIncidents: 1 });
      const whole = await rebuildReadModels(store, large, { pageSize: 100_000, maxFacts: 1e9, maxIncidents: 1e9 });
      expect(tiny).toMatchObject({ applied: Number(head), position: head, head });
      expect(whole).toEqual({ applied: Number(head), position: head, head, flushes: 1 });
      // The tiny bound really was reached, again and again (about 110 events in pages of 3).
      expect(tiny.flushes).toBeGreaterThan(20);

      const fromTiny = await snapshot(small);
      const fromWhole = await snapshot(large);
      expect(fromTiny).toEqual(fromWhole);
      expect(fromWhole.checkpoint).toBe(head);
      expect(fromWhole.incidents.map((state: IncidentState) => state.id)).toEqual([...INCIDENTS].sort());
      expect(fromWhole.parked).toEqual([
        expect.objectContaining({ incidentId: POISONED, eventId: 'e0000000-0000-4000-8000-poison000001' }),
      ]);

      // Every incident but the poisoned one is the plain fold of its stream.
      for (const state of fromWhole.incidents as IncidentState[]) {
        if (state.id === POISONED) continue;
        const fold = foldEvents((await store.readStream(streamIdOf(state.id))).map(toRecordedEvent));
        expect(state).toEqual(plain(fold));
      }
      // The poisoned one holds what its stream said just before the poison.
      const stream = await store.readStream(streamIdOf(POISONED));
      const poison = stream.find((event) => event.type === 'IncidentTeleported')!;
      const beforePoison = stream.filter((event) => event.version < poison.version).map(toRecordedEvent);
      expect(fromWhole.incidents.find((state: IncidentState) => state.id === POISONED)).toEqual(
        plain(foldEvents(beforePoison)),
      );
    });
  });
}

let sqliteDir: string | undefined;
rebuildSuite(
  'SQLite',
  async () => {
    sqliteDir = mkdtempSync(join(tmpdir(), 'rebuild-read-models-'));
    return {
      small: new SqliteReadModelStore(join(sqliteDir, 'small.db')),
      large: new SqliteReadModelStore(join(sqliteDir, 'large.db')),
    };
  },
  async () => {
    if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  },
);

describePostgres('PostgreSQL', () => {
  const schemas = [freshSchemaName(), freshSchemaName()];
  rebuildSuite(
    'PostgreSQL',
    async () => {
      const [small, large] = await Promise.all(
        schemas.map((schema) => PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema })),
      );
      return { small, large };
    },
    async () => {
      for (const schema of schemas) await dropSchema(schema);
    },
  );
});
