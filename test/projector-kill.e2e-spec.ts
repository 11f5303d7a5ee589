import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import { SqliteEventStore, type EventStore } from '@app/event-store';
import {
  INCIDENT_PROJECTION,
  INCIDENT_PROJECTION_NAME,
  rebuildReadModels,
  SqliteReadModelStore,
  type ReadModelStore,
} from '@app/read-models';
import { ApiClient } from '@app/testing';
import {
  connectRaw,
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../libs/event-store/src/contract/postgres.fixture';
import { PostgresEventStore } from '../libs/event-store/src/postgres.event-store';
import { PostgresReadModelStore } from '../libs/read-models/src/postgres.read-model-store';
import { ApiProcess, buildProject, localAdminToken, lostConnection } from './support/api-process';
import { openProjectionTransaction, transactionFate } from './support/projection-transactions';
import {
  differences,
  postgresTableNames,
  postgresTables,
  sqliteTables,
  type TableRows,
} from './support/read-model-tables';
import { SteadyWriters, type Outcome } from './support/steady-writers';

/**
 * The process running the projections is killed with SIGKILL ten times while four clients keep writing over HTTP
 * (facts, corrections, errata, status changes, links), and is restarted each time. On SQLite that process is the API
 * itself; on PostgreSQL two API replicas share one schema, the projector among them (the holder of the advisory lock)
 * is the one killed, the other takes over, and a new replica replaces the dead one.
 *
 * Each kill is aimed at projection work in progress. On SQLite, when the stored checkpoint is seen below the head of
 * the log (the projector applies a batch within one turn of its event loop, so from outside only "behind" shows). On
 * PostgreSQL, when a projection transaction is seen open in pg_stat_activity; its fate afterwards says whether the
 * kill cut it (rolled back) or came too late (committed).
 *
 * After the last restart every acknowledged write must be visible through the read API, and every read-model table
 * must equal, row for row, a rebuild of the same log into a fresh read-model database.
 */
const ON_POSTGRES = process.env.EVENT_STORE === 'postgres';
const KILLS = 10;
const TITLE = `projector killed with SIGKILL ${KILLS} times under a write load on ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'} (e2e, real processes)`;
const describeOnStore = ON_POSTGRES ? describePostgres : describe;

interface Kill {
  /** Projection work in progress was seen just before the kill (else it was killed after waiting in vain). */
  aimed: boolean;
  /** The checkpoint the kill left was below events already in the log (SQLite) or acknowledged (PostgreSQL). */
  behind: boolean;
  /** PostgreSQL: the projection transaction seen open was rolled back, so the kill landed inside it. */
  cut?: boolean;
}

describeOnStore(TITLE, () => {
  const schema = freshSchemaName();
  const dataDirs: string[] = [];
  const started: ApiProcess[] = [];
  let build: { dir: string; apiEntry: string } | undefined;
  let raw: Client | undefined;
  /** The log and read models the API processes write, opened from the test. */
  let live: { store: EventStore; readModels: ReadModelStore } | undefined;
  let writers: SteadyWriters | undefined;

  beforeAll(async () => {
    build = await buildProject('projector-kill');
    if (ON_POSTGRES) raw = await connectRaw();
  }, 300_000);

  afterAll(async () => {
    await writers?.stop();
    await Promise.all(started.map((server) => server.kill()));
    await live?.store.close();
    await live?.readModels.close();
    await raw?.end();
    if (ON_POSTGRES) await dropSchema(schema);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    if (build) rmSync(build.dir, { recursive: true, force: true });
  });

  /** SQLite: one data directory for every restart. PostgreSQL: a data directory per replica, one shared schema. */
  async function startServer(): Promise<ApiProcess> {
    if (ON_POSTGRES || dataDirs.length === 0) dataDirs.push(mkdtempSync(join(tmpdir(), 'projector-kill-')));
    const env: Record<string, string> = ON_POSTGRES
      ? {
          EVENT_STORE: 'postgres',
          READ_MODEL_STORE: 'postgres',
          DATABASE_URL: TEST_DATABASE_URL,
          DATABASE_SCHEMA: schema,
        }
      : { EVENT_STORE: 'sqlite', READ_MODEL_STORE: 'sqlite' };
    const server = await ApiProcess.start(build!.apiEntry, ON_POSTGRES ? dataDirs.at(-1)! : dataDirs[0], env);
    started.push(server);
    return server;
  }

  async function openLive(): Promise<{ store: EventStore; readModels: ReadModelStore }> {
    if (ON_POSTGRES) {
      return {
        store: await PostgresEventStore.open({ connectionString: TEST_DATABASE_URL, schema }),
        readModels: await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema }),
      };
    }
    return {
      store: new SqliteEventStore({ filename: join(dataDirs[0], 'events.db') }),
      readModels: new SqliteReadModelStore(join(dataDirs[0], 'read-models.db')),
    };
  }

  it('loses no acknowledged write, and the read models equal a rebuild of the log', async () => {
    const first = await startServer();
    const token = await localAdminToken(dataDirs[0], 'projector-kill-writer');
    const pool = new ServingPool(token);
    pool.serve(first);
    if (ON_POSTGRES) pool.serve(await startServer());
    live = await openLive();
    const { store, readModels } = live;

    writers = new SteadyWriters((...request) => pool.send(...request), 'kill');
    await writers.start();
    const kills: Kill[] = [];
    /** The replacement of the last process killed, serving as soon as it is ready. */
    let replacing: Promise<void> = Promise.resolve();
    try {
      for (let k = 0; k < KILLS && writers.failures.length === 0; k += 1) {
        // Writes go on for a while (on SQLite, once the restarted process serves), so the kills spread over the load.
        await Promise.race([writers.progress(30 + Math.floor(Math.random() * 60)), replacing.then(() => never)]);
        await replacing;
        const victim = await projector(pool);
        kills.push(await killAimed(victim, pool));
        replacing = startServer().then((server) => pool.serve(server));
      }
      await replacing;
    } finally {
      const stopped = writers.stop();
      pool.close();
      await stopped;
    }
    expect(writers.failures).toEqual([]);
    expect(kills).toHaveLength(KILLS);

    // Every acknowledged write is visible through the read API; no write refused with the contention 503 landed.
    const reader = pool.client(pool.serving[0]);
    expect({ acknowledged: writers.acks.length, unseen: await writers.unseen(reader) }).toEqual({
      acknowledged: writers.acks.length,
      unseen: [],
    });
    const refused = new Set(writers.refused);
    // On PostgreSQL, every acknowledged event readable: none held back by a transaction another suite left open.
    await store.awaitFinal?.(60_000);
    const log = await store.readAll({ limit: 1_000_000 });
    expect(log.filter((event) => refused.has((event.data as { summary?: string }).summary ?? ''))).toEqual([]);

    // The read models equal, table by table and row by row, a rebuild of the same log into a fresh database.
    const head = await store.headPosition();
    await until(
      async () => (await readModels.checkpoint(INCIDENT_PROJECTION_NAME)) === head,
      `the read models to apply the whole log (head ${head})`,
    );
    const { liveTables, rebuiltTables } = await rebuildBeside(store);
    expect(differences(liveTables, rebuiltTables)).toEqual([]);
    const factRows = liveTables[`fact_v${INCIDENT_PROJECTION.version}`];
    expect(factRows.length).toBeGreaterThanOrEqual(writers.acks.filter((ack) => ack.kind === 'fact').length);

    // The kills found projection work in progress: events not yet applied; on PostgreSQL, transactions they cut.
    const tally = (key: keyof Kill) => kills.filter((kill) => kill[key] === true).length;
    const seen = { aimed: tally('aimed'), behind: tally('behind'), cut: tally('cut') };
    expect({ ...seen, someBehind: seen.behind > 0, someCut: !ON_POSTGRES || seen.cut > 0 }).toEqual({
      ...seen,
      someBehind: true,
      someCut: true,
    });
  }, 600_000);

  /** The process that runs the projections: on PostgreSQL, the replica that reports it holds the projector lock. */
  async function projector(pool: ServingPool): Promise<ApiProcess> {
    if (!ON_POSTGRES) return pool.serving[0];
    let holder: ApiProcess | undefined;
    await until(async () => {
      for (const server of pool.serving) if (await runsProjections(server)) holder = server;
      return holder !== undefined;
    }, 'a replica to run the projections');
    return holder!;
  }

  /** Waits (within a bound) for projection work in progress, then kills the projector at once. */
  async function killAimed(victim: ApiProcess, pool: ServingPool): Promise<Kill> {
    const { store, readModels } = live!;
    const deadline = Date.now() + 15_000;
    let open: bigint | undefined;
    let aimed = false;
    while (!aimed && Date.now() < deadline) {
      if (ON_POSTGRES) {
        open = await openProjectionTransaction(raw!, schema);
        aimed = open !== undefined;
      } else {
        // The head first: a checkpoint read after it and still below it was behind events already in the log.
        const head = await store.headPosition();
        aimed = (await readModels.checkpoint(INCIDENT_PROJECTION_NAME)) < head;
      }
      if (!aimed) await delay(1);
    }
    const acknowledged = BigInt(writers!.lastPosition);
    await pool.kill(victim);
    const checkpoint = await readModels.checkpoint(INCIDENT_PROJECTION_NAME);
    // On SQLite nothing appends while the process is down; on PostgreSQL the other replica takes writes meanwhile.
    const reference = ON_POSTGRES ? acknowledged : await store.headPosition();
    return {
      aimed,
      behind: checkpoint < reference,
      ...(open !== undefined && { cut: (await transactionFate(raw!, open)) === 'aborted' }),
    };
  }

  /** Rebuilds the log into a fresh read-model database, and reads every read-model table of both. */
  async function rebuildBeside(store: EventStore): Promise<{ liveTables: TableRows; rebuiltTables: TableRows }> {
    if (ON_POSTGRES) {
      const rebuiltSchema = freshSchemaName();
      const rebuilt = await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema: rebuiltSchema });
      try {
        await rebuildReadModels(store, rebuilt);
        // The fresh schema holds only read-model tables: those are the ones to compare.
        const names = await postgresTableNames(raw!, rebuiltSchema);
        return {
          liveTables: await postgresTables(raw!, schema, names),
          rebuiltTables: await postgresTables(raw!, rebuiltSchema, names),
        };
      } finally {
        await rebuilt.close();
        await dropSchema(rebuiltSchema);
      }
    }
    const rebuiltDir = mkdtempSync(join(tmpdir(), 'projector-kill-rebuilt-'));
    dataDirs.push(rebuiltDir);
    const rebuilt = new SqliteReadModelStore(join(rebuiltDir, 'read-models.db'));
    try {
      await rebuildReadModels(store, rebuilt);
    } finally {
      await rebuilt.close();
    }
    return {
      liveTables: sqliteTables(join(dataDirs[0], 'read-models.db')),
      rebuiltTables: sqliteTables(join(rebuiltDir, 'read-models.db')),
    };
  }
});

/**
 * The API processes that take requests, in turn. A process is taken out before it is killed; a request it had not
 * answered by then is lost (any other failure to answer is an error), and with none left requests wait for the next.
 */
class ServingPool {
  readonly serving: ApiProcess[] = [];
  private readonly dying = new Set<ApiProcess>();
  private readonly clients = new Map<ApiProcess, ApiClient>();
  private next = 0;
  private up = deferred();
  private closed = false;

  constructor(private readonly token: string) {}

  serve(server: ApiProcess): void {
    this.serving.push(server);
    this.clients.set(server, new ApiClient(server.baseUrl, this.token));
    this.up.resolve();
    this.up = deferred();
  }

  client(server: ApiProcess): ApiClient {
    return this.clients.get(server)!;
  }

  async kill(server: ApiProcess): Promise<void> {
    this.dying.add(server);
    this.serving.splice(this.serving.indexOf(server), 1);
    await server.kill();
  }

  /** Requests waiting for a process (and any sent later) are given up, unsent. */
  close(): void {
    this.closed = true;
    this.up.resolve();
  }

  async send(method: string, path: string, body: unknown, expected: number): Promise<Outcome> {
    while (this.serving.length === 0) {
      if (this.closed) return { kind: 'lost' };
      await this.up.promise;
    }
    const server = this.serving[this.next++ % this.serving.length];
    try {
      const response = await this.client(server).request(method, path, body);
      return response.status === expected
        ? { kind: 'acked', body: response.body }
        : { kind: 'answered', status: response.status, body: response.body };
    } catch (error) {
      if (this.dying.has(server) && lostConnection(error)) return { kind: 'lost' };
      throw error;
    }
  }
}

async function runsProjections(server: ApiProcess): Promise<boolean> {
  const response = await fetch(`${server.baseUrl}/health/ready`).catch(() => undefined);
  const body = (await response?.json()) as { checks?: { projections?: { projector?: boolean } } } | undefined;
  return body?.checks?.projections?.projector === true;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A promise that never settles: racing it against another leaves only the other's outcome. */
const never = new Promise<never>(() => undefined);
