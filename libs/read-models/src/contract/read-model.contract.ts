import {
  evolve,
  foldEvents,
  PersistentMap,
  type FactState,
  type IncidentEvent,
  type IncidentState,
  type RecordedEvent,
} from '@app/domain';
import { recorded } from '@app/testing/specification';
import { CheckpointMovedError, type IncidentHeader, type ReadModelStore, type RowChanges } from '../read-model.port';
import { factRowOf } from '../rows';

const PROJECTION = 'contract.v1';

function opened(id: string, title: string, updatedAt?: string): IncidentEvent {
  return {
    type: 'IncidentOpened',
    data: {
      id,
      title,
      category: 'espionage',
      summary: `Summary of ${title}`,
      victims: ['US State Department'],
      threatActors: ['Storm-0558'],
      status: 'detected',
      effectiveAt: updatedAt ?? '2023-06-16T00:00:00.000Z',
      assertedAt: '2023-07-11',
    },
  };
}

function fact(factId: string, occurredAt: string, techniques: string[] = []): IncidentEvent {
  return {
    type: 'TokenForged',
    data: {
      factId,
      kind: 'token-forgery',
      occurredAt,
      summary: `Fact ${occurredAt}`,
      confidence: 'likely',
      sources: [],
      techniques,
      assertedAt: '2023-07-11',
    },
  };
}

/** Rows of whole incidents, as a projection would write them after folding each stream. */
function rowsOf(states: IncidentState[]): RowChanges {
  return {
    headers: states.map((state) => {
      const { facts: _facts, ...header } = state;
      return { header: header as IncidentHeader, statusChanged: true, linksChanged: true };
    }),
    facts: states.flatMap((state) => [...state.facts.values()].map((f) => factRowOf(state.id, f))),
  };
}

function incident(id: string, events: IncidentEvent[], start?: number): IncidentState {
  const log = recorded(events, start).map((event) => ({ ...event, streamId: `incident-${id}` }) as RecordedEvent);
  return foldEvents(log)!;
}

const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

/** Fact `factId` of `state` as retracted ("Withdrawn") by the stream's version 2, at `position`. */
function retractedFact(state: IncidentState, factId: string, position: bigint): FactState {
  const event = {
    ...recorded([{ type: 'FactRetracted', data: { factId, reason: 'Withdrawn' } }])[0],
    streamId: `incident-${state.id}`,
    version: 2,
    position,
  } as RecordedEvent;
  return evolve(state, event)!.facts.get(factId)!;
}

/**
 * What every read-model adapter must do, run against the real engine. `open` returns a fresh, empty store.
 */
export function readModelContract(name: string, open: () => Promise<ReadModelStore>, dispose: () => Promise<void>) {
  describe(`read-model contract: ${name}`, () => {
    let store: ReadModelStore;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
      await dispose();
    });

    it('starts empty at checkpoint 0', async () => {
      expect(await store.checkpoint(PROJECTION)).toBe(0n);
      expect(await store.loadIncident('storm-0558')).toBeNull();
      expect(await store.list({ limit: 10 })).toEqual([]);
    });

    it('commits rows with the checkpoint and reads back exactly the incident folded', async () => {
      const storm = incident('storm-0558', [
        opened('storm-0558', 'Storm-0558'),
        fact('f1', '2023-05', ['T1606.002']),
        fact('f2', '../2023-04'),
        fact('f3', '2023-06/..'),
        {
          type: 'IncidentStatusChanged',
          data: { from: 'detected', to: 'contained', effectiveAt: '2023-07-11T00:00:00.000Z' },
        },
        { type: 'IncidentLinked', data: { incidentId: 'salt-typhoon', relation: 'related' } },
      ]);
      await store.commit(PROJECTION, rowsOf([storm]), 6n, 0n);
      expect(await store.checkpoint(PROJECTION)).toBe(6n);
      expect(plain(await store.loadIncident('storm-0558'))).toEqual(plain(storm));
      const headers = await store.loadHeaders(['storm-0558', 'unknown']);
      expect([...headers.keys()]).toEqual(['storm-0558']);
      expect(headers.get('storm-0558')?.statusHistory.map((p) => p.to)).toEqual(['detected', 'contained']);
      const facts = await store.loadFacts([
        { incidentId: 'storm-0558', factId: 'f3' },
        { incidentId: 'other', factId: 'f1' },
      ]);
      expect([...facts.values()].map((f: FactState) => f.factId)).toEqual(['f3']);
    });

    it('refuses a commit built on a checkpoint another writer moved, writing nothing', async () => {
      const first = incident('storm-0558', [opened('storm-0558', 'First')]);
      await store.commit(PROJECTION, rowsOf([first]), 1n, 0n);
      const second = incident('salt-typhoon', [opened('salt-typhoon', 'Second')]);
      await expect(store.commit(PROJECTION, rowsOf([second]), 2n, 0n)).rejects.toThrow(CheckpointMovedError);
      expect(await store.loadIncident('salt-typhoon')).toBeNull();
      expect(await store.checkpoint(PROJECTION)).toBe(1n);
    });

    it('rewrites status periods and links only when flagged, and replaces a fact row in place', async () => {
      const base = incident('storm-0558', [opened('storm-0558', 'Storm-0558'), fact('f1', '2023-05')]);
      await store.commit(PROJECTION, rowsOf([base]), 2n, 0n);
      const { facts: _facts, ...header } = base;
      const changed = { ...header, title: 'Renamed', statusHistory: [] as IncidentHeader['statusHistory'] };
      await store.commit(
        PROJECTION,
        {
          headers: [{ header: changed, statusChanged: false, linksChanged: false }],
          facts: [factRowOf('storm-0558', retractedFact(base, 'f1', 3n))],
        },
        3n,
        2n,
      );
      const read = await store.loadIncident('storm-0558');
      expect(read?.title).toBe('Renamed');
      expect(read?.statusHistory).toHaveLength(1);
      expect(read?.facts.size).toBe(1);
      expect(read?.facts.get('f1')?.retraction?.reason).toBe('Withdrawn');
    });

    it('lists newest change first with keyset paging, filters by status, category, text and technique', async () => {
      const states = ['alpha-one', 'beta-two', 'gamma-three'].map((id, index) =>
        incident(
          id,
          [opened(id, `Incident ${id}`), fact(`${id}-f`, '2023', index === 1 ? ['T1606.002'] : ['T1078'])],
          Date.parse('2026-01-01T00:00:00.000Z') + index * 1000,
        ),
      );
      await store.commit(PROJECTION, rowsOf(states), 6n, 0n);
      const page = await store.list({ limit: 2 });
      expect(page.map((row) => row.id)).toEqual(['gamma-three', 'beta-two']);
      const next = await store.list({ limit: 2, after: { updatedAt: page[1].updatedAt, id: page[1].id } });
      expect(next.map((row) => row.id)).toEqual(['alpha-one']);
      expect((await store.list({ limit: 10, q: 'BETA' })).map((row) => row.id)).toEqual(['beta-two']);
      expect((await store.list({ limit: 10, q: '100%_' })).map((row) => row.id)).toEqual([]);
      expect((await store.list({ limit: 10, technique: 'T1606' })).map((row) => row.id)).toEqual(['beta-two']);
      expect((await store.list({ limit: 10, technique: 'T1606.002' })).map((row) => row.id)).toEqual(['beta-two']);
      expect((await store.list({ limit: 10, technique: 'T1606.001' })).map((row) => row.id)).toEqual([]);
      expect((await store.list({ limit: 10, status: 'contained' })).map((row) => row.id)).toEqual([]);
      expect((await store.list({ limit: 10, category: 'espionage' })).length).toBe(3);
      expect((await store.dump()).map((state) => state.id)).toEqual(['alpha-one', 'beta-two', 'gamma-three']);
    });

    it('replaces the techniques a fact is listed by when its row is written again', async () => {
      const base = incident('storm-0558', [opened('storm-0558', 'Storm-0558'), fact('f1', '2023-05', ['T1606.002'])]);
      await store.commit(PROJECTION, rowsOf([base]), 2n, 0n);
      const edited = { ...base.facts.get('f1')!, techniques: ['T1078'] };
      await store.commit(PROJECTION, { headers: [], facts: [factRowOf('storm-0558', edited)] }, 3n, 2n);
      expect((await store.list({ limit: 10, technique: 'T1606' })).map((row) => row.id)).toEqual([]);
      expect((await store.list({ limit: 10, technique: 'T1078' })).map((row) => row.id)).toEqual(['storm-0558']);
      const retracted = factRowOf('storm-0558', retractedFact(base, 'f1', 4n));
      await store.commit(PROJECTION, { headers: [], facts: [retracted] }, 4n, 3n);
      expect((await store.list({ limit: 10, technique: 'T1606' })).map((row) => row.id)).toEqual([]);
      expect((await store.list({ limit: 10, technique: 'T1078' })).map((row) => row.id)).toEqual([]);
      expect((await store.loadIncident('storm-0558'))?.facts.get('f1')?.retraction?.reason).toBe('Withdrawn');
    });

    it('reset empties the rows and the checkpoint', async () => {
      await store.commit(PROJECTION, rowsOf([incident('storm-0558', [opened('storm-0558', 'x')])]), 1n, 0n);
      await store.reset(PROJECTION);
      expect(await store.checkpoint(PROJECTION)).toBe(0n);
      expect(await store.dump()).toEqual([]);
      expect(PersistentMap.empty().size).toBe(0);
    });
  });
}
