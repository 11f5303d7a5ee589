import { request as httpRequest, type IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore, type StoredEvent } from '@app/event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { SseClient } from './support/sse-client';

/**
 * The SSE feeds over real HTTP: `id:` is the global position, a reconnect with Last-Event-ID gets exactly what it
 * missed, filters by incident and by category (as recorded at each event), heartbeats, refusal of bad input before
 * the stream starts, and a slow reader that is dropped with a reason, holds nobody back and loses nothing.
 */

describe('SSE feeds (e2e)', () => {
  let app: TestApp;
  let api: ApiClient;
  let store: EventStore;
  const clients: SseClient[] = [];
  const previousHeartbeat = process.env.SSE_HEARTBEAT_MS;

  beforeAll(async () => {
    process.env.SSE_HEARTBEAT_MS = '200';
    // A small buffer for clients that do not read, so the slow reader below is dropped well within its writes.
    app = await startTestApp({ env: { SSE_CLIENT_BUFFER_BYTES: String(64 * 1024) } });
    api = new ApiClient(app.baseUrl, app.adminToken);
    store = app.app.get<EventStore>(EVENT_STORE);
  });

  afterAll(async () => {
    // Streams still open here: the app must end them itself to shut down.
    await app.close();
    await Promise.all(clients.map((client) => client.close()));
    if (previousHeartbeat === undefined) delete process.env.SSE_HEARTBEAT_MS;
    else process.env.SSE_HEARTBEAT_MS = previousHeartbeat;
  });

  async function connect(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = await SseClient.connect(`${app.baseUrl}${path}`, app.adminToken, headers);
    clients.push(client);
    return client;
  }

  async function open(id: string, category = 'espionage'): Promise<number> {
    const response = await api.post('/v1/incidents', { id, title: `Incident ${id}`, category });
    expect(response.status).toBe(201);
    return response.body.position;
  }

  async function changeStatus(id: string, status: string): Promise<number> {
    const response = await api.post(`/v1/incidents/${id}/status`, { status, reason: `to ${status}` });
    expect(response.status).toBe(200);
    return response.body.position;
  }

  async function recordFact(id: string): Promise<number> {
    const response = await api.post(`/v1/incidents/${id}/facts`, { kind: 'other', occurredAt: '2024', summary: 'x' });
    expect(response.status).toBe(201);
    return response.body.position;
  }

  /**
   * What a feed must have delivered between two positions: the log in (after, upTo], filtered as the server filters.
   * Comparing with the log itself, rather than with what this suite wrote, keeps the checks exact even if another
   * writer shares the store.
   */
  async function logIds(after: number, upTo: number, accept: (event: StoredEvent) => Promise<boolean> | boolean) {
    const events = await store.readAll({ after: BigInt(after), limit: 100_000 });
    const ids: number[] = [];
    for (const event of events)
      if (Number(event.position) <= upTo && (await accept(event))) ids.push(Number(event.position));
    return ids;
  }

  const isStatusChange = (event: StoredEvent) => event.type === 'IncidentStatusChanged';

  /** The incident's category as recorded at this event, read from its stream. */
  async function categoryAt(event: StoredEvent): Promise<string | undefined> {
    let category: string | undefined;
    for (const earlier of await store.readStream(event.streamId, { toVersion: event.version })) {
      const data = earlier.data as { category?: string; changes?: { category?: string } };
      if (earlier.type === 'IncidentOpened') category = data.category;
      if (earlier.type === 'IncidentDetailsRevised' && data.changes?.category) category = data.changes.category;
    }
    return category;
  }

  const upTo = (ids: number[], position: number) => ids.filter((id) => id <= position);

  it('answers with text/event-stream, ids equal to positions, status changes only, oldest first', async () => {
    await open('sse-basic');
    const first = await changeStatus('sse-basic', 'investigating');
    await recordFact('sse-basic');
    const second = await changeStatus('sse-basic', 'contained');

    const client = await connect('/v1/feeds/status-changes?after=0&incidentId=sse-basic');
    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(client.response.headers.get('cache-control')).toContain('no-store');
    await client.until(() => client.events.length === 2);
    expect(client.ids).toEqual([first, second]);
    expect(client.retry).toBeGreaterThan(0);
    expect(client.events[0]).toMatchObject({
      id: String(first),
      event: 'IncidentStatusChanged',
      data: {
        type: 'IncidentStatusChanged',
        incidentId: 'sse-basic',
        streamId: 'incident-sse-basic',
        position: first,
        version: 1,
        data: { from: 'detected', to: 'investigating', reason: 'to investigating' },
        actor: { sub: 'test-admin' },
      },
    });

    const live = await changeStatus('sse-basic', 'resolved');
    await client.until(() => client.ids.includes(live));
    expect(client.ids).toEqual([first, second, live]);
  });

  it('starts at the end of the log when neither after nor Last-Event-ID is given', async () => {
    await open('sse-live');
    await changeStatus('sse-live', 'investigating');
    const client = await connect('/v1/feeds/status-changes?incidentId=sse-live');
    const live = await changeStatus('sse-live', 'contained');
    await client.until(() => client.events.length >= 1);
    expect(client.ids).toEqual([live]);
  });

  it('resumes after Last-Event-ID with exactly the events missed while disconnected, then goes on live', async () => {
    await open('sse-resume-a');
    await open('sse-resume-b');
    const start = Number(await store.headPosition());
    const client = await connect(`/v1/feeds/status-changes?after=${start}`);
    await changeStatus('sse-resume-a', 'investigating');
    const seenBeforeLeaving = await changeStatus('sse-resume-b', 'investigating');
    await client.until(() => client.ids.includes(seenBeforeLeaving));
    await client.close();
    const lastEventId = client.events[client.events.length - 1].id;
    expect(client.ids).toEqual(await logIds(start, Number(lastEventId), isStatusChange));

    // Missed while away: status changes interleaved with other events, on both incidents.
    await recordFact('sse-resume-a');
    const missed = [await changeStatus('sse-resume-a', 'contained'), await changeStatus('sse-resume-b', 'resolved')];
    await recordFact('sse-resume-b');
    missed.push(await changeStatus('sse-resume-a', 'investigating'));

    // The original URL (with its ?after=) plus Last-Event-ID, as a reconnecting EventSource sends them.
    const again = await connect(`/v1/feeds/status-changes?after=${start}`, { 'Last-Event-ID': lastEventId });
    await again.until(() => again.ids.includes(missed[2]));
    const expected = await logIds(Number(lastEventId), missed[2], isStatusChange);
    expect(expected).toEqual(expect.arrayContaining(missed));
    expect(upTo(again.ids, missed[2])).toEqual(expected);

    const live = await changeStatus('sse-resume-b', 'investigating');
    await again.until(() => again.ids.includes(live));
    expect(upTo(again.ids, live)).toEqual(await logIds(Number(lastEventId), live, isStatusChange));
  });

  it('filters by category as recorded at each event, also on the events feed', async () => {
    const start = Number(await store.headPosition());
    await open('sse-cat-fraud', 'fraud');
    await open('sse-cat-spy', 'espionage');
    const fraudChange = await changeStatus('sse-cat-fraud', 'investigating');
    const spyChangeBefore = await changeStatus('sse-cat-spy', 'investigating');
    // Recategorised: its later events are fraud, its earlier ones stay espionage.
    const revised = await api.patch('/v1/incidents/sse-cat-spy', { category: 'fraud' });
    expect(revised.status).toBe(200);
    const spyChangeAfter = await changeStatus('sse-cat-spy', 'contained');

    const fraud = await connect(`/v1/feeds/status-changes?after=${start}&category=fraud`);
    const espionage = await connect(`/v1/feeds/events?after=${start}&category=espionage`);
    // Markers, one of each category, show how far each feed has read.
    const fraudMarker = await changeStatus('sse-cat-fraud', 'contained');
    const espionageMarker = await open('sse-cat-marker', 'espionage');
    await fraud.until(() => fraud.ids.includes(fraudMarker));
    await espionage.until(() => espionage.ids.includes(espionageMarker));

    const fraudExpected = await logIds(
      start,
      fraudMarker,
      async (e) => isStatusChange(e) && (await categoryAt(e)) === 'fraud',
    );
    expect(fraudExpected).toEqual(expect.arrayContaining([fraudChange, spyChangeAfter, fraudMarker]));
    expect(fraudExpected).not.toContain(spyChangeBefore);
    expect(upTo(fraud.ids, fraudMarker)).toEqual(fraudExpected);

    const espionageExpected = await logIds(start, espionageMarker, async (e) => (await categoryAt(e)) === 'espionage');
    const spy = await store.readStream('incident-sse-cat-spy');
    const spyBefore = spy
      .filter((event) => event.version < revised.body.version)
      .map((event) => Number(event.position));
    expect(espionageExpected).toEqual(expect.arrayContaining([...spyBefore, espionageMarker]));
    expect(espionageExpected).not.toContain(spyChangeAfter);
    expect(upTo(espionage.ids, espionageMarker)).toEqual(espionageExpected);
    expect(espionage.events.filter((event) => event.data.incidentId === 'sse-cat-spy').map((e) => e.event)).toEqual([
      'IncidentOpened',
      'IncidentStatusChanged',
    ]);
  });

  it('delivers every event on /v1/feeds/events with the event type as the SSE event name', async () => {
    const start = Number(await store.headPosition());
    const client = await connect(`/v1/feeds/events?after=${start}&incidentId=sse-all`);
    await open('sse-all');
    await recordFact('sse-all');
    await changeStatus('sse-all', 'investigating');
    await client.until(() => client.events.length === 3);
    expect(client.events.map((event) => event.event)).toEqual([
      'IncidentOpened',
      'FactRecorded',
      'IncidentStatusChanged',
    ]);
    expect(client.events.map((event) => event.data.version)).toEqual([0, 1, 2]);
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const client = await connect('/v1/feeds/status-changes?incidentId=sse-quiet');
    await client.until(() => client.heartbeats >= 2, 5_000);
    expect(client.events).toEqual([]);
  });

  it('refuses bad input with problem+json before the stream starts', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['/v1/feeds/status-changes', { 'Last-Event-ID': 'abc' }, 'Last-Event-ID'],
      ['/v1/feeds/status-changes?category=nope', {}, 'category'],
      ['/v1/feeds/events?incidentId=Bad%20Id', {}, 'incidentId'],
      ['/v1/feeds/events?after=-1', {}, 'after'],
      ['/v1/feeds/events?colour=red', {}, 'colour'],
      ['/v1/feeds/events?after=999999999', {}, 'after'],
      ['/v1/feeds/status-changes?after=0', { 'Last-Event-ID': '999999999' }, 'Last-Event-ID'],
    ];
    for (const [path, headers, field] of cases) {
      const response = await api.get(path, { headers });
      expect(response.status).toBe(400);
      expect(response.contentType).toContain('application/problem+json');
      expect((response.body.errors as { field: string }[]).map((error) => error.field)).toContain(field);
    }
  });

  it('needs a token with incidents:read', async () => {
    const anonymous = await api.withToken(undefined).get('/v1/feeds/status-changes');
    expect(anonymous.status).toBe(401);
    const writer = await api.withToken(await app.token(['incidents:write'])).get('/v1/feeds/events');
    expect(writer.status).toBe(403);
  });

  it('drops a reader that stops reading, with a reason, holding back no one; it resumes by Last-Event-ID losing nothing', async () => {
    const start = Number(await store.headPosition());
    const reader = await slowReader(`${app.baseUrl}/v1/feeds/events?after=${start}`, app.adminToken);
    const fast = await connect(`/v1/feeds/events?after=${start}`);
    // About 20 MB of events: several times what the socket buffers of both ends hold, and far more than the 64 KiB
    // the server holds back for a client.
    const padding = 'x'.repeat(50_000);
    let last = 0;
    for (let n = 0; n < 40; n += 1) {
      for (let version = 0; version < 10; version += 5) {
        const appended = await store.append(
          `incident-sse-slow-${n}`,
          Array.from({ length: 5 }, (_, index) => slowEvent(n, version + index, padding)),
          version === 0 ? 'no-stream' : version - 1,
        );
        last = Number(appended.position);
      }
    }
    const expected = await logIds(start, last, () => true);
    expect(expected).toHaveLength(400);

    // The reader that reads is not held back by the one that does not.
    await fast.until(() => fast.ids.includes(last), 30_000);
    expect(upTo(fast.ids, last)).toEqual(expected);

    // What the slow reader got before it was dropped: a gapless prefix of the log, then the reason.
    const cut = await reader.readToEnd();
    expect(cut.ending).toMatchObject({ reason: 'slow-reader', detail: expect.stringContaining('Last-Event-ID') });
    expect(cut.ids.length).toBeLessThan(expected.length);
    expect(cut.ids).toEqual(expected.slice(0, cut.ids.length));

    // Resumed from the last id it saw, it gets exactly the rest.
    const lastSeen = cut.ids.length > 0 ? cut.ids[cut.ids.length - 1] : start;
    const resumed = await connect(`/v1/feeds/events?after=${start}`, { 'Last-Event-ID': String(lastSeen) });
    await resumed.until(() => resumed.ids.includes(last), 30_000);
    expect([...cut.ids, ...upTo(resumed.ids, last)]).toEqual(expected);
  }, 90_000);
});

/** A valid event of a synthetic incident, with a long text. */
function slowEvent(n: number, version: number, padding: string) {
  const metadata = { schemaVersion: 1, correlationId: randomUUID(), actor: { iss: 'sse-test', sub: 'writer' } };
  if (version === 0) {
    return {
      eventId: randomUUID(),
      type: 'IncidentOpened',
      metadata,
      data: {
        id: `sse-slow-${n}`,
        title: `Slow ${n}`,
        category: 'other',
        summary: padding,
        victims: [],
        threatActors: [],
        status: 'detected',
        effectiveAt: new Date().toISOString(),
      },
    };
  }
  return {
    eventId: randomUUID(),
    type: 'FactRecorded',
    metadata,
    data: {
      factId: randomUUID(),
      kind: 'other',
      occurredAt: '2024',
      summary: padding,
      confidence: 'likely',
      sources: [],
    },
  };
}

/**
 * A reader that does not read: the response is paused from the first byte, so the server sees a full socket, until
 * `readToEnd()`, which reads on until the server ends the stream and resolves with every id received and the data
 * of the final `end` event.
 */
async function slowReader(url: string, token: string) {
  let response!: IncomingMessage;
  const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    req.once('response', (incoming) => {
      response = incoming;
      response.pause();
      resolve();
    });
    req.once('error', reject);
    req.end();
  });
  expect(response.statusCode).toBe(200);
  return {
    readToEnd: () =>
      new Promise<{ ids: number[]; ending: unknown }>((resolve, reject) => {
        const ids: number[] = [];
        let ending: unknown;
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (\d+)$/m.exec(frame);
            if (id) ids.push(Number(id[1]));
            else if (frame.startsWith('event: end\n')) ending = JSON.parse(/^data: (.*)$/m.exec(frame)![1]);
          }
        });
        response.once('end', () => resolve({ ids, ending }));
        response.once('error', reject);
        response.resume();
      }),
  };
}
