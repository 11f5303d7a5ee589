import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateLog, SqliteEventStore, type EventStore, type StoredEvent } from '@app/event-store';
import { IncidentImporter, parseIncidentFile } from '@app/incidents';
import { ApiClient, startTestApp } from '@app/testing';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../libs/event-store/src/contract/postgres.fixture';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';

const EXAMPLES = join(__dirname, '..', 'examples', 'incidents');

/** Every query the API answers, including point-in-time views on each axis. */
async function queryPaths(api: ApiClient): Promise<string[]> {
  const list = await api.get('/v1/incidents?limit=200');
  const ids: string[] = list.body.items.map((item: { id: string }) => item.id);
  const events = await api.get('/v1/events?limit=200');
  const midway = events.body.items[Math.floor(events.body.items.length / 2)].recordedAt;
  const paths = [
    '/v1/incidents?limit=200',
    '/v1/incidents?limit=2',
    '/v1/incidents?q=key&limit=50',
    '/v1/incidents?validAt=2023-06-30&limit=50',
    '/v1/incidents?knownAt=2023-10-01&limit=50',
    `/v1/incidents?asOf=${midway}&limit=50`,
    '/v1/events?limit=200',
    '/v1/events?after=20&limit=30',
  ];
  for (const id of ids) {
    paths.push(
      `/v1/incidents/${id}`,
      `/v1/incidents/${id}?knownAt=2023-10-01`,
      `/v1/incidents/${id}?knownAt=2024-06-01&validAt=2023-06-01`,
      `/v1/incidents/${id}?asOf=${midway}`,
      `/v1/incidents/${id}/timeline?includeRetracted=true`,
      `/v1/incidents/${id}/history?limit=200`,
      `/v1/incidents/${id}/status-history`,
    );
  }
  return paths;
}

async function wholeLog(store: EventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after = 0n; ;) {
    const page = await store.readAll({ after, limit: 1000 });
    if (page.length === 0) return events;
    events.push(...page);
    after = page[page.length - 1].position;
  }
}

/** The answers with every global position (`position`, and `next` of the global log) mapped to the target's. */
function withPositions<T>(answers: Record<string, T>, positions: Map<number, number>): Record<string, T> {
  const map = (value: unknown, key: string | undefined, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => map(item, undefined, path));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, map(item, name, path)]));
    }
    const isPosition = key === 'position' || (key === 'next' && path.startsWith('/v1/events'));
    return isPosition && typeof value === 'number' ? (positions.get(value) ?? value) : value;
  };
  return Object.fromEntries(Object.entries(answers).map(([path, answer]) => [path, map(answer, undefined, path) as T]));
}

async function answers(api: ApiClient, paths: string[]) {
  const result: Record<string, { status: number; body: unknown }> = {};
  for (const path of paths) {
    const response = await api.get(path);
    result[path] = { status: response.status, body: response.body };
  }
  return result;
}

describePostgres('migrating the embedded store to PostgreSQL (e2e)', () => {
  const schema = freshSchemaName();

  afterAll(async () => {
    await dropSchema(schema);
  });

  it('answers every query exactly as the source did', async () => {
    const sourceDir = mkdtempSync(join(tmpdir(), 'migrate-source-'));
    const source = await startTestApp({ dataDir: sourceDir, env: { EVENT_STORE: 'sqlite' } });
    let paths: string[];
    let before: Record<string, { status: number; body: unknown }>;
    const positions = new Map<number, number>();
    try {
      const importer = source.app.get(IncidentImporter);
      const files = readdirSync(EXAMPLES)
        .filter((name) => name.endsWith('.json'))
        .map((name) => parseIncidentFile(name, readFileSync(join(EXAMPLES, name), 'utf8')));
      const reports = [];
      for (const file of files) reports.push(await importer.importRecord(file));
      for (const [index, file] of files.entries()) await importer.importLinks(file, reports[index]);
      const api = new ApiClient(source.baseUrl, source.adminToken);
      const head = (await api.get('/v1/events?limit=200')).body.items.at(-1).position;
      await api.get(`/v1/incidents?minPosition=${head}`);
      paths = await queryPaths(api);
      before = await answers(api, paths);
    } finally {
      await source.close();
    }

    const sqlite = new SqliteEventStore({ filename: join(source.dataDir, 'events.db') });
    const postgres = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
    try {
      const result = await migrateLog(sqlite, postgres);
      expect(result.verified).toBe(true);
      expect(result.target.count).toBeGreaterThan(50);
      // PostgreSQL assigns its own positions (sparse, from transaction ids) in the same order: map one onto the other.
      const [from, to] = [await wholeLog(sqlite), await wholeLog(postgres)];
      expect(to.map((event) => event.eventId)).toEqual(from.map((event) => event.eventId));
      from.forEach((event, index) => positions.set(Number(event.position), Number(to[index].position)));
    } finally {
      await postgres.close();
      await sqlite.close();
      rmSync(sourceDir, { recursive: true, force: true });
    }

    const target = await startTestApp({
      env: { EVENT_STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema },
    });
    try {
      const api = new ApiClient(target.baseUrl, target.adminToken);
      const head = (await api.get('/v1/events?limit=200')).body.items.at(-1).position;
      await api.get(`/v1/incidents?minPosition=${head}`);
      // A global position in a query (`/v1/events?after=`) names the same event under the target's numbering.
      const translate = (path: string) =>
        path.startsWith('/v1/events')
          ? path.replace(/([?&]after=)(\d+)/, (_, name: string, n: string) => `${name}${positions.get(Number(n)) ?? n}`)
          : path;
      const translated = await answers(api, paths.map(translate));
      const after = Object.fromEntries(paths.map((path) => [path, translated[translate(path)]]));
      // Only a view before an incident was opened (asOf) or publicly known (knownAt) may be 404; the rest answers.
      const refused = Object.entries(before).filter(([, answer]) => answer.status !== 200);
      expect(
        refused.every(
          ([path, answer]) => answer.status === 404 && (path.includes('asOf=') || path.includes('knownAt=')),
        ),
      ).toBe(true);
      const expected = withPositions(before, positions);
      expect(after).toEqual(expected);
    } finally {
      await target.close();
    }
  });
});
