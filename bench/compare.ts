/**
 * Side-by-side comparisons for `npm run bench`: every case of a comparison runs once per round, in an order that
 * rotates from round to round (so that no case always runs first, on a cold cache, or last, on a full disk queue), and
 * the median of the rounds' rates is compared. Ratios are printed with the conditions they were measured under.
 */

export interface Case {
  name: string;
  /** Operations per round. */
  operations: number;
  /** How many callers run operations at once, each waiting for its previous one (default 1). */
  concurrency?: number;
  /** Called once per round before timing; returns the operation to time (given its index within the round). */
  prepare: (round: number) => Promise<(i: number) => Promise<void>>;
}

export interface Ratio {
  label: string;
  numerator: string;
  denominator: string;
  /** The goal, as a minimum ratio; omitted for ratios printed for information. */
  goal?: number;
}

export interface ComparisonResult {
  title: string;
  /** Median operations per second by case name. */
  rates: Map<string, number>;
  ratios: { label: string; value: number; goal?: number }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function timeCase(run: (i: number) => Promise<void>, operations: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < operations) await run(next++);
    }),
  );
  return operations / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function compareInterleaved(options: {
  title: string;
  conditions: string[];
  rounds: number;
  cases: Case[];
  ratios: Ratio[];
}): Promise<ComparisonResult> {
  const samples = new Map<string, number[]>(options.cases.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    const order = options.cases.map((_, i) => options.cases[(i + round) % options.cases.length]);
    for (const c of order) {
      const run = await c.prepare(round);
      samples.get(c.name)!.push(await timeCase(run, c.operations, c.concurrency ?? 1));
    }
  }
  const rates = new Map([...samples].map(([name, values]) => [name, median(values)]));
  const ratios = options.ratios.map((r) => ({
    label: r.label,
    value: rates.get(r.numerator)! / rates.get(r.denominator)!,
    goal: r.goal,
  }));
  console.log(`\n${options.title}`);
  options.conditions.forEach((line) => console.log(`  ${line}`));
  console.table(
    options.cases.map((c) => ({
      case: c.name,
      'ops/round': c.operations,
      concurrency: c.concurrency ?? 1,
      'median ops/s': Math.round(rates.get(c.name)!),
      'min..max ops/s': `${Math.round(Math.min(...samples.get(c.name)!))}..${Math.round(Math.max(...samples.get(c.name)!))}`,
    })),
  );
  for (const r of ratios) {
    const verdict =
      r.goal === undefined ? '' : r.value >= r.goal ? `  (goal ≥ ${r.goal}×: met)` : `  (goal ≥ ${r.goal}×: MISSED)`;
    console.log(`  ${r.label}: ${r.value.toFixed(2)}×${verdict}`);
  }
  return { title: options.title, rates, ratios };
}
