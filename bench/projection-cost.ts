/**
 * (d) The cost of projecting one event into an incident that already holds 0, 1,000 or 10,000 facts: the projection
 * reads and writes only the rows an event touches, so the cost should not grow with the incident.
 */
import { join } from 'node:path';
import { projectBatch, SqliteReadModelStore } from '@app/read-models';
import { type Case, compareInterleaved } from './compare';
import { storedIncidentEvent } from './events';

const ROUNDS = 5;
const OPERATIONS = 300;
const SIZES = [0, 1_000, 10_000];
const BUILD_BATCH = 2_000;

/** Incidents in one read-model store, each built to a number of facts before timing, then fed one event at a time. */
function readModelsAt(file: string) {
  const readModels = new SqliteReadModelStore(file);
  let checkpoint = 0n;
  let incidents = 0;
  const project = async (events: { incidentId: string; version: number }[]) => {
    const batch = events.map(({ incidentId, version }, index) =>
      storedIncidentEvent(incidentId, version, checkpoint + 1n + BigInt(index)),
    );
    await projectBatch(readModels, batch, checkpoint);
    checkpoint = batch[batch.length - 1].position;
  };
  /** A new incident opened with `facts` facts; returns a function that projects its next fact event. */
  const incidentWith = async (facts: number) => {
    const incidentId = `bench-${(incidents += 1)}`;
    let version = 0;
    for (let left = facts + 1; left > 0; left -= BUILD_BATCH) {
      await project(Array.from({ length: Math.min(left, BUILD_BATCH) }, () => ({ incidentId, version: version++ })));
    }
    return () => project([{ incidentId, version: version++ }]);
  };
  return { readModels, incidentWith };
}

export async function compareProjectionCost(dir: string): Promise<void> {
  const stores = SIZES.map((size) => readModelsAt(join(dir, `d-${size}.db`)));
  const label = (size: number) => `one fact event, incident of ${size.toLocaleString('en')} facts`;
  const cases: Case[] = SIZES.map((size, index) => ({
    name: label(size),
    operations: OPERATIONS,
    prepare: async () => {
      const { incidentWith } = stores[index];
      if (size === 0) {
        // A freshly opened incident per event, so that each one lands in an incident of no facts.
        const next: (() => Promise<void>)[] = [];
        for (let i = 0; i < OPERATIONS; i += 1) next.push(await incidentWith(0));
        return (i) => next[i]();
      }
      const next = await incidentWith(size);
      return () => next();
    },
  }));
  try {
    await compareInterleaved({
      title: '(d) Projection: one event into an incident of 0 / 1k / 10k facts (events/s, SQLite read models)',
      conditions: [
        'projectBatch with a batch of one new fact event: load the header and that fact, fold, commit with the checkpoint',
        'each size in its own read-model file (WAL, synchronous=NORMAL); 0 facts: a freshly opened incident per event;',
        `1k and 10k: an incident built to that size before each round, so it holds N to N+${OPERATIONS - 1} facts`,
        `${ROUNDS} rounds of ${OPERATIONS} events per case, interleaved`,
      ],
      rounds: ROUNDS,
      cases,
      ratios: [
        {
          label: '10k facts vs 0 facts (goal: cost within 2×)',
          numerator: label(10_000),
          denominator: label(0),
          goal: 0.5,
        },
        { label: '1k facts vs 0 facts', numerator: label(1_000), denominator: label(0) },
      ],
    });
  } finally {
    for (const { readModels } of stores) await readModels.close();
  }
}
