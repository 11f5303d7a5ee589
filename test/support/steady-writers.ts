import { setTimeout as delay } from 'node:timers/promises';
import type { ApiClient } from '@app/testing';

type Status = 'detected' | 'investigating' | 'contained';

/** A write the API acknowledged, with what must be visible for it afterwards. */
export interface Ack {
  kind: 'opened' | 'fact' | 'correction' | 'status' | 'link';
  incidentId: string;
  position: number;
  version: number;
  factId?: string;
  status?: Status;
  link?: { incidentId: string; relation: string };
}

/**
 * What became of one request: the expected status (acknowledged), another answer, or no answer because the process
 * it went to was killed (the write may or may not have landed).
 */
export type Outcome = { kind: 'acked'; body: any } | { kind: 'answered'; status: number; body: any } | { kind: 'lost' };

export type Send = (method: string, path: string, body: unknown, expected: number) => Promise<Outcome>;

const FACT_DATES = ['2024', '2024-03', '2024-03-05', '2023~', '2024-01/2024-02', '2024-02-10T08:30:00Z'];
const TECHNIQUES = [[], ['T1606.002'], ['T1078', 'T1566.001'], ['T1566']];
const RELATIONS = ['related', 'same-actor', 'same-campaign', 'follow-up'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * Several clients writing as fast as they are answered: each owns a few incidents (facts, corrections and errata,
 * status changes, links between incidents), sends bursts of changes to several of them at once, and adds facts to
 * one incident they all share. Every acknowledged write is recorded; a lost one is not, and the client carries on
 * without knowing whether it landed.
 */
export class SteadyWriters {
  readonly acks: Ack[] = [];
  /** Summaries of facts refused with the contention 503, which promises that nothing was appended. */
  readonly refused: string[] = [];
  readonly failures: string[] = [];
  private stopping = false;
  private running: Promise<void>[] = [];
  private readonly shared: string;

  constructor(
    private readonly send: Send,
    private readonly prefix: string,
    private readonly writers = 4,
    private readonly ownIncidents = 4,
  ) {
    this.shared = `${prefix}-shared`;
  }

  /** Opens every incident, then leaves the writers running until `stop`. */
  async start(): Promise<void> {
    await this.open(this.shared);
    for (let w = 0; w < this.writers; w += 1) for (const id of this.ownOf(w)) await this.open(id);
    this.running = Array.from({ length: this.writers }, (_, w) =>
      this.write(w).catch((error: unknown) => {
        this.failures.push(`writer ${w}: ${error instanceof Error ? error.message : String(error)}`);
        this.stopping = true;
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Resolves once `count` more writes have been acknowledged (or a writer failed). */
  async progress(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acks.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < target && this.failures.length === 0) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} writes acknowledged within ${timeoutMs} ms`);
      await delay(20);
    }
  }

  get lastPosition(): number {
    return Math.max(...this.acks.map((ack) => ack.position));
  }

  /**
   * The acknowledged writes the API does not show, reading each incident once the read models have applied the last
   * acknowledged position: a fact in the timeline, a correction or erratum on its fact, a status period, a link.
   */
  async unseen(api: ApiClient): Promise<string[]> {
    const last = this.lastPosition;
    const missing: string[] = [];
    for (const id of [...new Set(this.acks.map((ack) => ack.incidentId))].sort()) {
      const record = await readAfter(api, `/v1/incidents/${id}`, last);
      const periods = await readAfter(api, `/v1/incidents/${id}/status-history`, last);
      const timeline = new Map<string, { corrections: { version: number }[]; errata: { version: number }[] }>(
        record.timeline.map((fact: { factId: string }) => [fact.factId, fact]),
      );
      const statusVersions = new Set(periods.items.map((period: { version: number }) => period.version));
      const links = new Set(
        record.links.map((link: { incidentId: string; relation: string }) => `${link.incidentId} ${link.relation}`),
      );
      for (const ack of this.acks.filter((a) => a.incidentId === id)) {
        const fact = ack.factId === undefined ? undefined : timeline.get(ack.factId);
        const seen = {
          opened: () => record.id === id,
          fact: () => fact !== undefined,
          correction: () =>
            [...(fact?.corrections ?? []), ...(fact?.errata ?? [])].some((c) => c.version === ack.version),
          status: () => statusVersions.has(ack.version),
          link: () => links.has(`${ack.link!.incidentId} ${ack.link!.relation}`),
        }[ack.kind]();
        if (!seen) missing.push(`${ack.kind} on ${id} at version ${ack.version}, position ${ack.position}`);
      }
    }
    return missing;
  }

  private ownOf(w: number): string[] {
    return Array.from({ length: this.ownIncidents }, (_, i) => `${this.prefix}-w${w}-${i}`);
  }

  private async open(id: string): Promise<void> {
    const outcome = await this.send('POST', '/v1/incidents', { id, title: `Incident ${id}`, category: 'other' }, 201);
    if (outcome.kind !== 'acked') throw new Error(`opening ${id}: ${JSON.stringify(outcome)}`);
    this.acks.push({ kind: 'opened', incidentId: id, position: outcome.body.position, version: outcome.body.version });
  }

  private async write(w: number): Promise<void> {
    const own = this.ownOf(w);
    const status = new Map<string, Status | 'unknown'>(own.map((id) => [id, 'detected']));
    const facts = new Map<string, string[]>(own.map((id) => [id, []]));
    const others = Array.from({ length: this.writers }, (_, v) => v)
      .filter((v) => v !== w)
      .flatMap((v) => this.ownOf(v));
    const unlinked = new Map<string, { incidentId: string; relation: string }[]>(
      own.map((id) => [id, others.flatMap((other) => RELATIONS.map((relation) => ({ incidentId: other, relation })))]),
    );
    let n = 0;
    const fail = (what: string, outcome: Outcome): never => {
      throw new Error(`${what}: ${JSON.stringify(outcome)}`);
    };

    const recordFact = async (id: string): Promise<void> => {
      n += 1;
      const summary = `writer ${w} fact ${n} on ${id}`;
      const techniques = pick(TECHNIQUES);
      const outcome = await this.send(
        'POST',
        `/v1/incidents/${id}/facts`,
        {
          kind: pick(['other', 'notification']),
          occurredAt: pick(FACT_DATES),
          summary,
          ...(techniques.length > 0 && { techniques }),
          ...(n % 3 === 0 && { actors: ['Storm-0558'] }),
        },
        201,
      );
      if (outcome.kind === 'lost') return;
      // The writers race for the shared incident and may exhaust the retries: an honest "not written, retry".
      if (
        id === this.shared &&
        outcome.kind === 'answered' &&
        outcome.status === 503 &&
        /^Too many concurrent changes/.test(String(outcome.body?.detail))
      )
        return void this.refused.push(summary);
      if (outcome.kind !== 'acked') return fail(`fact on ${id}`, outcome);
      const { position, version, factId } = outcome.body;
      this.acks.push({ kind: 'fact', incidentId: id, position, version, factId });
      facts.get(id)?.push(factId);
    };

    const correct = async (id: string): Promise<void> => {
      const known = facts.get(id)!;
      if (known.length === 0) return recordFact(id);
      const factId = pick(known);
      n += 1;
      const erratum = n % 4 === 0;
      const outcome = await this.send(
        'PATCH',
        `/v1/incidents/${id}/facts/${factId}`,
        // A summary of its own each time: a correction that changes nothing appends nothing.
        erratum
          ? { summary: `writer ${w} erratum ${n}`, occurredAt: pick(FACT_DATES), erratum, reason: `typo ${n}` }
          : { summary: `writer ${w} correction ${n}`, techniques: pick(TECHNIQUES), reason: `update ${n}` },
        200,
      );
      if (outcome.kind === 'lost') return;
      if (outcome.kind !== 'acked') return fail(`correcting ${factId} on ${id}`, outcome);
      const { position, version } = outcome.body;
      this.acks.push({ kind: 'correction', incidentId: id, position, version, factId });
    };

    const changeStatus = async (id: string): Promise<void> => {
      const believed = status.get(id)!;
      const to: Status = believed === 'investigating' ? 'contained' : 'investigating';
      const outcome = await this.send('POST', `/v1/incidents/${id}/status`, { status: to, reason: `step ${n}` }, 200);
      if (outcome.kind === 'lost') return void status.set(id, 'unknown');
      // After a lost change the status is unknown; a refusal to change to the status it already has settles it.
      const already =
        outcome.kind === 'answered' &&
        outcome.status === 409 &&
        outcome.body?.rule === 'illegal-transition' &&
        outcome.body?.from === to;
      if (believed === 'unknown' && already) return void status.set(id, to);
      if (outcome.kind !== 'acked') return fail(`status of ${id} to ${to} (believed ${believed})`, outcome);
      const { position, version } = outcome.body;
      this.acks.push({ kind: 'status', incidentId: id, position, version, status: to });
      status.set(id, to);
    };

    const link = async (id: string): Promise<void> => {
      const candidates = unlinked.get(id)!;
      if (candidates.length === 0) return recordFact(id);
      // Never asked twice, so a lost link that landed cannot make a later request a duplicate.
      const [target] = candidates.splice(Math.floor(Math.random() * candidates.length), 1);
      const outcome = await this.send('POST', `/v1/incidents/${id}/links`, target, 201);
      if (outcome.kind === 'lost') return;
      if (outcome.kind !== 'acked') return fail(`link from ${id}`, outcome);
      const { position, version } = outcome.body;
      this.acks.push({ kind: 'link', incidentId: id, position, version, link: target });
    };

    while (!this.stopping) {
      // A burst: one change on each of several own incidents at once (never two on one stream).
      const burst = own.filter(() => Math.random() < 0.6);
      await Promise.all(
        burst.map((id) => {
          const roll = Math.random();
          if (roll < 0.45) return recordFact(id);
          if (roll < 0.65) return correct(id);
          if (roll < 0.9) return changeStatus(id);
          return link(id);
        }),
      );
      if (Math.random() < 0.3) await recordFact(this.shared);
    }
  }
}

/** Reads with read-your-writes at `position`, asking again while the read models are still behind (503). */
async function readAfter(api: ApiClient, path: string, position: number): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await api.get(`${path}?minPosition=${position}`);
    if (response.status === 200) return response.body;
    if (response.status !== 503 || Date.now() > deadline)
      throw new Error(`${path}?minPosition=${position}: ${response.status} ${JSON.stringify(response.body)}`);
    await delay(100);
  }
}
