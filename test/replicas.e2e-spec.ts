import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintLocalToken, SCOPES } from '@app/auth';
import { loadConfig } from '@app/config';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';
import { rebuildReadModels } from '@app/read-models';
import { ApiClient } from '@app/testing';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../libs/event-store/src/contract/postgres.fixture';
import { PostgresReadModelStore } from '../libs/read-models/src/postgres.read-model-store';
import { ApiProcess, buildProject } from './support/api-process';

/**
 * Three API processes on one PostgreSQL database, each with a data directory of its own (so nothing is shared
 * through files): writes through any, reads through any; one projector at a time, and another takes over when it is
 * killed in the middle of a write load; the read models then equal a rebuild.
 */
describePostgres('several API replicas on one PostgreSQL database (e2e, real processes)', () => {
  const schema = freshSchemaName();
  const dataDirs: string[] = [];
  const servers: ApiProcess[] = [];
  let build: { dir: string; apiEntry: string } | undefined;

  beforeAll(async () => {
    build = await buildProject('replicas');
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    if (build) rmSync(build.dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  async function replica(): Promise<{ server: ApiProcess; dataDir: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'replica-'));
    dataDirs.push(dataDir);
    const server = await ApiProcess.start(build!.apiEntry, dataDir, {
      EVENT_STORE: 'postgres',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
    });
    servers.push(server);
    return { server, dataDir };
  }

  /** The replicas that say (in /health/ready) that they run the projections. */
  async function projectorOf(): Promise<ApiProcess[]> {
    const holders: ApiProcess[] = [];
    for (const server of servers.filter((s) => s.alive)) {
      const health = (await (await fetch(`${server.baseUrl}/health/ready`)).json()) as {
        checks?: { projections?: { projector?: boolean } };
      };
      if (health.checks?.projections?.projector === true) holders.push(server);
    }
    return holders;
  }

  it('serve one record from any replica, with one projector that another replaces when it is killed', async () => {
    const replicas = [await replica(), await replica(), await replica()];
    const audience = loadConfig({ DATA_DIR: replicas[0].dataDir }).auth.audience;
    // One token, minted with the first replica's key: every replica verifies it through the shared public keys.
    const token = await mintLocalToken({
      dataDir: replicas[0].dataDir,
      audience,
      sub: 'replica-writer',
      scopes: [...SCOPES],
      ttlSeconds: 3600,
    });
    const apis = replicas.map(({ server }) => new ApiClient(server.baseUrl, token));
    for (const api of apis) expect((await api.get('/v1/incidents')).status).toBe(200);

    expect(await projectorOf()).toHaveLength(1);

    // Writes through each replica, each read back through another with read-your-writes.
    let last = 0;
    for (let i = 0; i < 6; i += 1) {
      const writer = apis[i % 3];
      const reader = apis[(i + 1) % 3];
      const opened = await writer.post('/v1/incidents', {
        id: `replica-${i}`,
        title: `Replica ${i}`,
        category: 'other',
      });
      expect(opened.status).toBe(201);
      const read = await reader.get(`/v1/incidents/replica-${i}?minPosition=${opened.body.position}`);
      expect(read.status).toBe(200);
      last = opened.body.position;
    }

    // Kill the projector while facts keep arriving through the survivors.
    const [projector] = await projectorOf();
    const survivors = apis.filter((_, index) => replicas[index].server !== projector);
    const load = (async () => {
      const acks: number[] = [];
      for (let i = 0; i < 60; i += 1) {
        const response = await survivors[i % 2].post(`/v1/incidents/replica-${i % 6}/facts`, {
          kind: 'other',
          occurredAt: '2023-06',
          summary: `Fact ${i}`,
        });
        expect(response.status).toBe(201);
        acks.push(response.body.position);
      }
      return acks;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await projector.kill();
    const acks = await load;
    last = Math.max(last, ...acks);

    // Another replica takes over and catches up: every acknowledged write is readable through both survivors.
    for (const api of survivors) {
      const read = await api.get(`/v1/incidents?minPosition=${last}&limit=200`);
      expect(read.status).toBe(200);
      expect(read.body.items).toHaveLength(6);
    }
    expect(await projectorOf()).toHaveLength(1);

    // The shared read models equal a rebuild from the log.
    const store = await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema });
    const shared = await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema });
    const rebuiltSchema = freshSchemaName();
    const rebuilt = await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema: rebuiltSchema });
    try {
      await rebuildReadModels(store, rebuilt);
      const plain = (value: unknown) => JSON.parse(JSON.stringify(value));
      expect(plain(await shared.dump())).toEqual(plain(await rebuilt.dump()));
      const facts = (await shared.dump()).reduce((sum, state) => sum + state.facts.size, 0);
      expect(facts).toBe(60);
    } finally {
      await rebuilt.close();
      await shared.close();
      await store.close();
      await dropSchema(rebuiltSchema);
    }
  }, 240_000);
});
