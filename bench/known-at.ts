/**
 * (f) The timeline of a 10,000-fact incident: live (read-model rows) against `knownAt` (a fold of the incident's stream
 * from the log, as every point-in-time view is).
 */
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { IncidentViews } from '@app/incidents';
import { ProjectionRunner, SqliteReadModelStore } from '@app/read-models';
import { type Case, compareInterleaved } from './compare';
import { interleavedLog } from './events';

const ROUNDS = 5;
const OPERATIONS = 10;
const FACTS = 10_000;

export async function compareKnownAt(dir: string): Promise<void> {
  const store = new SqliteEventStore({ filename: join(dir, 'f-events.db') });
  const readModels = new SqliteReadModelStore(join(dir, 'f-read-models.db'));
  const runner = new ProjectionRunner(store, readModels);
  try {
    for (const chunk of interleavedLog(1, FACTS + 1)) await store.copyIn(chunk);
    runner.start();
    if (!(await runner.waitFor(await store.headPosition(), 600_000)) || !runner.serving) {
      throw new Error(`the read models did not catch up: ${runner.failure ?? 'timed out'}`);
    }
    const views = new IncidentViews(store, readModels, runner);
    const incidentId = 'bench-0';
    const live = 'live timeline (read-model rows)';
    const knownAt = 'knownAt timeline (fold of the stream)';
    const check = async (at: { knownAt?: string }) => {
      const facts = await views.timeline(incidentId, at, false);
      if (facts.length !== FACTS) throw new Error(`expected ${FACTS} facts, got ${facts.length}`);
    };
    const cases: Case[] = [
      { name: live, operations: OPERATIONS, prepare: async () => () => check({}) },
      {
        name: knownAt,
        operations: OPERATIONS,
        prepare: async () => () => check({ knownAt: '2030-01-01T00:00:00.000Z' }),
      },
    ];
    const { rates } = await compareInterleaved({
      title: `(f) Timeline of a ${FACTS.toLocaleString('en')}-fact incident: live vs knownAt (timelines/s, SQLite)`,
      conditions: [
        'IncidentViews.timeline in-process (no HTTP): live reads the fact rows; knownAt reads the stream and folds it',
        `each fact ~300 bytes of JSON with one source; ${ROUNDS} rounds of ${OPERATIONS} timelines per case, interleaved`,
      ],
      rounds: ROUNDS,
      cases,
      ratios: [{ label: 'knownAt vs live', numerator: knownAt, denominator: live }],
    });
    for (const name of [live, knownAt])
      console.log(`  ${name}: ${(1000 / rates.get(name)!).toFixed(0)} ms each (median)`);
  } finally {
    await runner.stop();
    await readModels.close();
    await store.close();
  }
}
