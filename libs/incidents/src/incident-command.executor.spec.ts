import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DomainError, type IncidentCommand } from '@app/domain';
import { SqliteEventStore } from '@app/event-store';
import type { CommandContext, CommandResult } from './command-context';
import { IdempotencyKeyReusedError, PreconditionFailedError } from './errors';
import { IncidentCommandExecutor } from './incident-command.executor';

const context = (extra: Partial<CommandContext> = {}): CommandContext => ({
  actor: { iss: 'test', sub: 'alice' },
  correlationId: randomUUID(),
  ...extra,
});
const exact = (version: number): CommandContext['ifMatch'] => ({
  any: false,
  tags: [{ weak: false, opaque: String(version) }],
});
const open: IncidentCommand = { type: 'OpenIncident', data: { id: 'batch-demo', title: 'Batch', category: 'other' } };
const fact = (factId: string = randomUUID(), summary = 'A fact'): IncidentCommand => ({
  type: 'RecordFact',
  data: { factId, kind: 'other', occurredAt: '2023-06', summary },
});

type Settled = { ok: true; result: CommandResult } | { ok: false; error: unknown };
const settle = (promise: Promise<CommandResult>): Promise<Settled> =>
  promise.then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('IncidentCommandExecutor: commands on one incident, sent at once', () => {
  let dir: string;
  let store: SqliteEventStore;
  let executor: IncidentCommandExecutor;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'executor-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db') });
    executor = new IncidentCommandExecutor(store, () => new Date());
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends all 64, each answering with its own event version and position', async () => {
    await executor.execute('batch-demo', open, context());
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => executor.execute('batch-demo', fact(undefined, `fact ${i}`), context())),
    );
    const events = await store.readStream('incident-batch-demo');
    expect(events).toHaveLength(65);
    // Commands keep their order of arrival: the i-th command wrote version i + 1.
    expect(results.map((r) => r.version)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    for (const result of results) {
      const event = events.find((e) => e.version === result.version)!;
      expect(result.position).toBe(event.position);
      expect(result.appended).toBe(true);
    }
    expect(events.slice(1).map((e) => (e.data as { summary: string }).summary)).toEqual(
      Array.from({ length: 64 }, (_, i) => `fact ${i}`),
    );
  });

  it('gives mixed If-Match versions the answers a serial run would', async () => {
    await executor.execute('batch-demo', open, context());
    // Expected versions chosen so that some match the version their predecessors reach and some do not.
    const expected = [0, 0, 1, 2, 2, 5, 3, 4, 4, 9, 5, 6, 0, 7];
    const outcomes = await Promise.all(
      expected.map((version) => settle(executor.execute('batch-demo', fact(), context({ ifMatch: exact(version) })))),
    );
    // Serially: a command succeeds when its expected version is the incident's version at its turn.
    let version = 0;
    const serial = expected.map((v) => (v === version ? ((version += 1), true) : false));
    expect(outcomes.map((o) => o.ok)).toEqual(serial);
    for (const outcome of outcomes) if (!outcome.ok) expect(outcome.error).toBeInstanceOf(PreconditionFailedError);
    expect(await store.readStream('incident-batch-demo')).toHaveLength(1 + serial.filter(Boolean).length);
  });

  it('refuses a command that fails its rules without touching the others', async () => {
    await executor.execute('batch-demo', open, context());
    const outcomes = await Promise.all([
      settle(executor.execute('batch-demo', fact('f-1'), context())),
      settle(executor.execute('batch-demo', fact('f-1'), context())),
      settle(executor.execute('batch-demo', fact('f-2'), context())),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1].ok === false && outcomes[1].error).toBeInstanceOf(DomainError);
    const events = await store.readStream('incident-batch-demo');
    expect(events.map((e) => (e.data as { factId?: string }).factId)).toEqual([undefined, 'f-1', 'f-2']);
  });

  it('answers a repeated Idempotency-Key within one batch as a replay, and a reused one with a refusal', async () => {
    await executor.execute('batch-demo', open, context());
    const keyed = (requestHash: string) => context({ idempotencyKey: 'key-1', requestHash });
    const outcomes = await Promise.all([
      settle(executor.execute('batch-demo', fact('f-k'), keyed('h1'))),
      settle(executor.execute('batch-demo', fact('f-k'), keyed('h1'))),
      settle(executor.execute('batch-demo', fact('f-other'), keyed('h2'))),
    ]);
    const [first, again, reused] = outcomes;
    expect(first.ok && first.result).toMatchObject({ appended: true, replayed: false, version: 1 });
    expect(again.ok && again.result).toMatchObject({ appended: false, replayed: true, version: 1 });
    expect(again.ok && first.ok && again.result.position).toBe(first.ok && first.result.position);
    expect(reused.ok === false && reused.error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await store.readStream('incident-batch-demo')).toHaveLength(2);
  });

  it('refuses only the command whose Idempotency-Key was used on another incident, not the rest of its batch', async () => {
    const other: IncidentCommand = {
      type: 'OpenIncident',
      data: { id: 'batch-other', title: 'Other', category: 'other' },
    };
    await executor.execute('batch-other', other, context());
    await executor.execute('batch-demo', open, context());
    const keyed = context({ idempotencyKey: 'key-shared', requestHash: 'h1' });
    await executor.execute('batch-other', fact('f-first'), keyed);
    // The key's event ids are taken by the other incident's stream: only the store can tell.
    const outcomes = await Promise.all([
      settle(executor.execute('batch-demo', fact('f-a'), context())),
      settle(executor.execute('batch-demo', fact('f-b'), context({ idempotencyKey: 'key-shared', requestHash: 'h1' }))),
      settle(executor.execute('batch-demo', fact('f-c'), context())),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1].ok === false && outcomes[1].error).toBeInstanceOf(IdempotencyKeyReusedError);
    const events = await store.readStream('incident-batch-demo');
    expect(events.map((e) => (e.data as { factId?: string }).factId)).toEqual([undefined, 'f-a', 'f-c']);
  });

  it('opens an incident once when 50 opens race, refusing the other 49', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => settle(executor.execute('batch-demo', open, context()))),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.error instanceof DomainError)).toHaveLength(49);
    expect(await store.readStream('incident-batch-demo')).toHaveLength(1);
  });

  describe('with another process writing the same incident', () => {
    /** A second executor on the same store stands for another process: its cached folds are its own. */
    let other: IncidentCommandExecutor;

    beforeEach(async () => {
      other = new IncidentCommandExecutor(store, () => new Date());
      await executor.execute('batch-demo', open, context());
      await executor.execute('batch-demo', fact('f-mine'), context());
      await other.execute('batch-demo', fact('f-theirs'), context());
    });

    it('appends after what the other wrote, though its own cached fold is behind', async () => {
      const result = await executor.execute('batch-demo', fact('f-next'), context());
      expect(result.version).toBe(3);
      const events = await store.readStream('incident-batch-demo');
      expect(events.map((e) => (e.data as { factId?: string }).factId)).toEqual([
        undefined,
        'f-mine',
        'f-theirs',
        'f-next',
      ]);
    });

    it('checks If-Match against what the store holds, not against its cached fold', async () => {
      // Its cached fold is at version 1; the store is at 2.
      const matching = await settle(executor.execute('batch-demo', fact('f-matching'), context({ ifMatch: exact(2) })));
      expect(matching.ok && matching.result.version).toBe(3);
      const stale = await settle(executor.execute('batch-demo', fact('f-stale'), context({ ifMatch: exact(1) })));
      expect(stale.ok === false && stale.error).toBeInstanceOf(PreconditionFailedError);
    });

    it('refuses a command only on what the store holds: a fact the other recorded can be retracted', async () => {
      const retract: IncidentCommand = { type: 'RetractFact', data: { factId: 'f-theirs', reason: 'Wrong source' } };
      // Its cached fold has never seen f-theirs, and would refuse to retract an unknown fact.
      const result = await executor.execute('batch-demo', retract, context());
      expect(result.version).toBe(3);
      const events = await store.readStream('incident-batch-demo');
      expect(events.map((e) => e.type)).toEqual(['IncidentOpened', 'FactRecorded', 'FactRecorded', 'FactRetracted']);
    });
  });
});
