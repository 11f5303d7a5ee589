import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '@app/testing';
import { ApiProcess, buildProject, localAdminToken, lostConnection } from './support/api-process';
import { readEventLog, type LoggedEvent } from './support/event-log';

/**
 * Durability under kill -9: the real server process (built with tsc, started with node) takes a stream of sequential
 * and concurrent writes, is killed without warning mid-stream, and restarted on the same DATA_DIR. Every write it
 * acknowledged (2xx with a position) must be in the log at that position, and the read models must catch up to it.
 *
 * A write refused with the contention 503 ("too many concurrent changes") promised to append nothing: none of them may
 * be in the log. After the kill, only a request that lost its connection counts as unacknowledged; any answer the
 * server gave is checked as before the kill. The build is test/support/api-process.ts's (a fresh tsc into .cache/).
 */

interface Ack {
  kind: 'opened' | 'fact';
  incidentId: string;
  version: number;
  position: number;
  factId?: string;
}

describe('kill -9 mid-stream (e2e, real process)', () => {
  let buildDir: string;
  let dataDir: string;
  let entry: string;
  const servers: ApiProcess[] = [];

  beforeAll(async () => {
    ({ dir: buildDir, apiEntry: entry } = await buildProject('crash'));
    dataDir = mkdtempSync(join(tmpdir(), 'incident-crash-'));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  async function start(): Promise<ApiProcess> {
    const server = await ApiProcess.start(entry, dataDir);
    servers.push(server);
    return server;
  }

  it('keeps every acknowledged write and catches the read models up after a restart', async () => {
    const first = await start();
    // A token of the local issuer, whose key pair the first start created under DATA_DIR.
    const token = await localAdminToken(dataDir, 'crash-writer');
    const api = new ApiClient(first.baseUrl, token);
    const killAfter = 50 + Math.floor(Math.random() * 101);
    const acks: Ack[] = [];
    let killed: Promise<void> | undefined;
    let inFlightAtKill = 0;
    let inFlight = 0;

    const acknowledged = (ack: Ack) => {
      acks.push(ack);
      if (acks.length === killAfter) {
        // The write acknowledged here has left `inFlight` already: what remains are the other workers' writes, and
        // each of them may land without an answer.
        inFlightAtKill = inFlight;
        killed = first.kill();
      }
    };

    /** Facts refused with the contention 503, which promises that nothing was appended. */
    const refused: string[] = [];
    /** One write; false once the server is gone (an unacknowledged write, which may or may not have landed). */
    async function write(kind: Ack['kind'], incidentId: string, summary: string): Promise<boolean> {
      if (killed) return false;
      inFlight += 1;
      let response;
      try {
        response =
          kind === 'opened'
            ? await api.post('/v1/incidents', { id: incidentId, title: `Crash ${incidentId}`, category: 'other' })
            : await api.post(`/v1/incidents/${incidentId}/facts`, { kind: 'other', occurredAt: '2024', summary });
      } catch (error) {
        if (killed && lostConnection(error)) return false;
        throw error;
      } finally {
        inFlight -= 1;
      }
      // Four writers racing for the shared stream may exhaust the retries: an honest "not written, retry".
      if (
        response.status === 503 &&
        kind === 'fact' &&
        /^Too many concurrent changes to incident-crash-shared/.test(response.body.detail)
      ) {
        refused.push(summary);
        return true;
      }
      if (response.status !== 201)
        throw new Error(`${kind} ${incidentId}: ${response.status} ${JSON.stringify(response.body)}`);
      acknowledged({
        kind,
        incidentId,
        version: response.body.version,
        position: response.body.position,
        ...(kind === 'fact' && { factId: response.body.factId }),
      });
      return true;
    }

    expect(await write('opened', 'crash-shared', '')).toBe(true);
    /** Each worker opens its own incidents and records facts on them, and on the shared one that all contend for. */
    async function worker(w: number): Promise<void> {
      for (let n = 0; !killed; n += 1) {
        const own = `crash-w${w}-${n}`;
        if (!(await write('opened', own, ''))) return;
        for (let f = 0; f < 4; f += 1) {
          if (!(await write('fact', own, `worker ${w} incident ${n} fact ${f}`))) return;
          if (!(await write('fact', 'crash-shared', `worker ${w} shared ${n}.${f}`))) return;
        }
      }
    }
    await Promise.all([0, 1, 2, 3].map(worker));
    await killed;
    expect(first.alive).toBe(false);
    // Responses already on their way when the signal went out are acknowledgements too.
    expect(acks.length).toBeGreaterThanOrEqual(killAfter);

    const second = await start();
    const after = new ApiClient(second.baseUrl, token);
    // Only this suite's streams: a server store (EVENT_STORE=postgres) may hold other suites' events as well.
    const log = (await readEventLog(after)).filter((event) => event.streamId.startsWith('incident-crash-'));
    const byPosition = new Map<number, LoggedEvent>(log.map((event) => [event.position, event]));

    const missing = acks.filter((ack) => {
      const event = byPosition.get(ack.position);
      return (
        event === undefined ||
        event.streamId !== `incident-${ack.incidentId}` ||
        event.version !== ack.version ||
        event.type !== (ack.kind === 'opened' ? 'IncidentOpened' : 'FactRecorded') ||
        (ack.factId !== undefined && event.data.factId !== ack.factId)
      );
    });
    expect({ killAfter, missing }).toEqual({ killAfter, missing: [] });
    const landedDespite503 = log.filter((event) => refused.includes(event.data.summary as string));
    expect(landedDespite503).toEqual([]);

    // The log itself is whole: positions strictly increase, each stream's versions are 0..n without gaps.
    expect(log.map((event) => event.position)).toEqual([...log.map((event) => event.position)].sort((a, b) => a - b));
    expect(new Set(log.map((event) => event.position)).size).toBe(log.length);
    const versions = new Map<string, number[]>();
    for (const event of log) versions.set(event.streamId, [...(versions.get(event.streamId) ?? []), event.version]);
    for (const [streamId, list] of versions)
      expect({ streamId, list }).toEqual({ streamId, list: list.map((_, i) => i) });
    // At most the writes in flight at the kill landed without an acknowledgement.
    expect(log.length - acks.length).toBeLessThanOrEqual(inFlightAtKill);
    expect(log.length).toBeGreaterThanOrEqual(acks.length);

    const maxPosition = Math.max(...acks.map((ack) => ack.position));
    const incidents = [...new Set(acks.map((ack) => ack.incidentId))];
    for (const id of incidents) {
      const record = await after.get(`/v1/incidents/${id}?minPosition=${maxPosition}`);
      expect({ id, status: record.status }).toEqual({ id, status: 200 });
      const ackedFacts = acks.filter((ack) => ack.incidentId === id && ack.kind === 'fact').map((ack) => ack.factId);
      const timeline = (record.body.timeline as Array<{ factId: string }>).map((fact) => fact.factId);
      expect({ id, missingFromTimeline: ackedFacts.filter((factId) => !timeline.includes(factId!)) }).toEqual({
        id,
        missingFromTimeline: [],
      });
      const ackedVersion = Math.max(...acks.filter((ack) => ack.incidentId === id).map((ack) => ack.version));
      expect(record.body.version).toBeGreaterThanOrEqual(ackedVersion);
    }

    // And the restarted process writes on at the next version.
    const shared = await after.get('/v1/incidents/crash-shared');
    const next = await after.post('/v1/incidents/crash-shared/facts', {
      kind: 'other',
      occurredAt: '2024',
      summary: 'after the restart',
    });
    expect(next.status).toBe(201);
    expect(next.body.version).toBe(shared.body.version + 1);
    expect(next.body.position).toBeGreaterThan(log[log.length - 1].position);
  }, 120_000);
});
