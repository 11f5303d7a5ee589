/**
 * This build against an earlier release, over HTTP, on a 300-fact incident: the per-event cost of the write path
 * (`POST .../facts`) and of a `knownAt` timeline (folded from the log). Both builds run as child processes on loopback
 * with their own data directories, and their cases interleave round by round.
 *
 * The earlier release is a built checkout named by `BENCH_BASELINE` (e.g. `git worktree add ../baseline <tag> && cd
 * ../baseline && npm ci && npm run build`); without it this comparison is skipped.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareInterleaved, type Case } from './compare';
import { API_MAIN, send, startApi, stopService, type Service } from './services';

const FACTS = 300;

/** Dates spread over thirteen years, so the timeline has something to sort. */
function factBody(i: number) {
  return {
    kind: 'other',
    occurredAt: `20${10 + (i % 13)}-${String(1 + (i % 12)).padStart(2, '0')}`,
    summary: `fact ${i}`,
  };
}

async function seed(base: string): Promise<void> {
  await send(base, 'POST', '/v1/incidents', { id: 'bench-300', title: 'Bench', category: 'espionage' });
  for (let i = 0; i < FACTS; i += 1) await send(base, 'POST', '/v1/incidents/bench-300/facts', factBody(i));
}

function cases(label: string, base: string): Case[] {
  let written = FACTS;
  return [
    {
      name: `${label}: POST fact`,
      operations: 20,
      prepare: async () => async () =>
        send(base, 'POST', '/v1/incidents/bench-300/facts', factBody(written++)).then(() => undefined),
    },
    {
      name: `${label}: knownAt timeline`,
      operations: 20,
      prepare: async () => async () =>
        send(base, 'GET', '/v1/incidents/bench-300/timeline?knownAt=2030-01-01').then(() => undefined),
    },
  ];
}

export async function compareWithBaseline(dir: string): Promise<void> {
  const baseline = process.env.BENCH_BASELINE;
  if (baseline === undefined || baseline === '') {
    console.log('\n(h) This build vs an earlier release: skipped (set BENCH_BASELINE to a built checkout).');
    return;
  }
  const baselineRoot = resolve(baseline);
  if (!existsSync(join(baselineRoot, API_MAIN))) throw new Error(`BENCH_BASELINE has no ${API_MAIN}: build it first`);
  const current = await startApi(process.cwd(), mkdtempSync(join(dir, 'current-')));
  let earlier: Service | undefined;
  try {
    earlier = await startApi(baselineRoot, mkdtempSync(join(dir, 'baseline-')));
    await seed(current.base);
    await seed(earlier.base);
    await compareInterleaved({
      title: `(h) This build vs the release in BENCH_BASELINE, one incident of ${FACTS}+ facts, over HTTP`,
      conditions: [
        'SQLite, AUTH=off, one sequential client per case; the incident grows by the same facts on both builds',
        'knownAt timeline: GET .../timeline?knownAt=2030-01-01, folded from the log on every request',
      ],
      rounds: 9,
      cases: [...cases('this build', current.base), ...cases('baseline', earlier.base)],
      ratios: [
        {
          label: 'POST fact, this build vs baseline',
          numerator: 'this build: POST fact',
          denominator: 'baseline: POST fact',
          goal: 1,
        },
        {
          label: 'knownAt timeline, this build vs baseline',
          numerator: 'this build: knownAt timeline',
          denominator: 'baseline: knownAt timeline',
          goal: 1,
        },
      ],
    });
  } finally {
    await stopService(current);
    if (earlier !== undefined) await stopService(earlier);
  }
}
