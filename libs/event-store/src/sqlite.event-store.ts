import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { earlierAppend } from './earlier-append';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedVersionError } from './errors';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  SubscribeOptions,
} from './event-store.port';
import { unreadableBody } from './stored-event-body';
import { waitForWake } from './wake';

interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:' for a private in-memory store. */
  filename: string;
  /** How often a subscriber looks for events appended by other processes. */
  pollIntervalMs?: number;
  clock?: () => Date;
}

/** An event as the writer stores it: its data and metadata already JSON. */
interface EncodedEvent {
  eventId: string;
  type: string;
  data: string;
  metadata: string;
}

/** One append as handed to the writer (across a thread, so plain data only). */
interface EncodedAppend {
  streamId: string;
  events: EncodedEvent[];
  expectedVersion: ExpectedVersion;
}

interface PendingAppend extends EncodedAppend {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Why one append of a group was refused, as plain data: error classes do not cross a thread. */
type AppendRefusal =
  | { kind: 'wrong-expected-version'; streamId: string; expected: ExpectedVersion; actual: number }
  | { kind: 'duplicate-event-id'; streamId: string; eventIds: string[] }
  | { kind: 'failed'; message: string; code?: string };

type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; refusal: AppendRefusal };

/** What the writer answers for one group: an outcome per append, or why the group's transaction failed as a whole. */
type GroupAnswer = { outcomes: AppendOutcome[] } | { failed: AppendRefusal };

/** Appends committed together at most; a larger queue is written as several groups, one after another. */
const MAX_GROUP = 1000;

/** Mark the worker threads that commit a file's appends and checkpoint its log (see {@link SqliteEventStore}). */
const WRITER_ROLE = 'sqlite-event-store-writer';
const CHECKPOINTER_ROLE = 'sqlite-event-store-checkpointer';

/** How often the checkpointer copies what the log holds back into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/** Appends in this process wake subscribers at once; other processes are seen by polling. */
const appendsByFile = new EventEmitter().setMaxListeners(0);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    TEXT    NOT NULL UNIQUE,
  stream_id   TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL,
  UNIQUE (stream_id, version)
);
`;

function openDatabase(filename: string): Database.Database {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  return db;
}

function refusalOf(error: unknown): AppendRefusal {
  if (error instanceof WrongExpectedVersionError) {
    return { kind: 'wrong-expected-version', streamId: error.streamId, expected: error.expected, actual: error.actual };
  }
  if (error instanceof DuplicateEventIdError) {
    return { kind: 'duplicate-event-id', streamId: error.streamId, eventIds: error.eventIds };
  }
  const code = (error as { code?: unknown } | null)?.code;
  return {
    kind: 'failed',
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' && { code }),
  };
}

function errorOf(refusal: AppendRefusal): Error {
  switch (refusal.kind) {
    case 'wrong-expected-version':
      return new WrongExpectedVersionError(refusal.streamId, refusal.expected, refusal.actual);
    case 'duplicate-event-id':
      return new DuplicateEventIdError(refusal.streamId, refusal.eventIds);
    case 'failed':
      return Object.assign(new Error(refusal.message), refusal.code === undefined ? {} : { code: refusal.code });
  }
}

function toStored(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    version: row.version,
    position: BigInt(row.position),
    recordedAt: row.recorded_at,
    data: null,
    metadata: {},
  };
  let data: unknown;
  let metadata: unknown;
  try {
    data = JSON.parse(row.data);
    metadata = JSON.parse(row.metadata);
  } catch {
    event.unreadable = 'stored data or metadata is not valid JSON';
    return event;
  }
  const unreadable = unreadableBody(data, metadata);
  if (unreadable !== undefined) {
    event.unreadable = unreadable;
    return event;
  }
  event.data = data;
  event.metadata = metadata as Record<string, unknown>;
  return event;
}

/**
 * The statements that write: the checks and inserts of each append of a group, in one transaction. Prepared on the
 * connection that commits: the writer thread's for a file, the store's own for `:memory:`.
 */
class GroupWriter {
  private readonly statements;
  private readonly appendOne;
  private readonly appendEach;

  constructor(db: Database.Database) {
    this.statements = {
      byEventIds: db.prepare<[string], Pick<EventRow, 'event_id' | 'stream_id' | 'version' | 'position'>>(
        // CROSS JOIN keeps json_each outermost: the planner would otherwise scan the table and probe the ids.
        'SELECT e.event_id, e.stream_id, e.version, e.position FROM json_each(?) AS j CROSS JOIN events AS e ON e.event_id = j.value',
      ),
      byEventId: db.prepare<[string], Pick<EventRow, 'event_id' | 'stream_id' | 'version' | 'position'>>(
        'SELECT event_id, stream_id, version, position FROM events WHERE event_id = ?',
      ),
      streamVersion: db.prepare<[string], { version: number | null }>(
        'SELECT MAX(version) AS version FROM events WHERE stream_id = ?',
      ),
      lastRecordedAt: db.prepare<[], { recorded_at: string }>(
        'SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1',
      ),
      insert: prepareInsert(db),
    };
    this.appendOne = db.transaction(({ streamId, events, expectedVersion }: EncodedAppend, now: string) => {
      const replay = this.findEarlierAppend(streamId, events);
      if (replay) return replay;
      const current = this.statements.streamVersion.get(streamId)?.version ?? -1;
      if (!versionMatches(expectedVersion, current)) {
        throw new WrongExpectedVersionError(streamId, expectedVersion, current);
      }
      const recordedAt = this.nextRecordedAt(now);
      let position = 0;
      events.forEach((event, index) => {
        const info = this.statements.insert.run(
          event.eventId,
          streamId,
          current + 1 + index,
          event.type,
          event.data,
          event.metadata,
          recordedAt,
        );
        position = Number(info.lastInsertRowid);
      });
      return { version: current + events.length, position: BigInt(position), written: true };
    });
    // Called inside the group's transaction, a better-sqlite3 transaction function runs in a savepoint.
    this.appendEach = db.transaction((group: EncodedAppend[], now: string): AppendOutcome[] =>
      group.map((append) => attempt(() => this.appendOne(append, now))),
    );
  }

  /**
   * Commits a group in one transaction. Each append runs in its own savepoint, in arrival order, with its own checks: a
   * refusal rolls back that append alone, exactly as if the appends had been made one after another. Throws when the
   * transaction itself fails (the file stayed locked too long, the disk is full): then nothing of the group is written.
   */
  commit(group: EncodedAppend[], now: string): AppendOutcome[] {
    // A lone append is its own transaction: no savepoint is needed to roll it back alone.
    return group.length === 1
      ? [attempt(() => this.appendOne.immediate(group[0], now))]
      : this.appendEach.immediate(group, now);
  }

  private findEarlierAppend(streamId: string, events: EncodedEvent[]): AppendResult | undefined {
    // One lookup for all the ids: a 100-event append spent a fifth of its time on one lookup per id. A single id
    // is looked up by its index directly, without building and walking a JSON array.
    const rows =
      events.length === 1
        ? this.statements.byEventId.all(events[0].eventId)
        : this.statements.byEventIds.all(JSON.stringify(events.map((event) => event.eventId)));
    if (rows.length === 0) return undefined;
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    return earlierAppend(streamId, events, (eventId) => {
      const row = byId.get(eventId);
      return row && { streamId: row.stream_id, version: row.version, position: row.position };
    });
  }

  /** Recorded time never goes backwards, even if the wall clock does. */
  private nextRecordedAt(now: string): string {
    const last = this.statements.lastRecordedAt.get()?.recorded_at;
    return last !== undefined && last > now ? last : now;
  }
}

function prepareInsert(db: Database.Database) {
  // Positional parameters: binding an object per row by name cost a fifth of a 100-event append.
  return db.prepare<[string, string, number, string, string, string, string]>(
    `INSERT INTO events (event_id, stream_id, version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
}

function attempt(append: () => AppendResult): AppendOutcome {
  try {
    return { ok: true, result: append() };
  } catch (error) {
    return { ok: false, refusal: refusalOf(error) };
  }
}

/** Where a store's groups are committed: on its own connection, or by a writer thread. */
interface Committer {
  commit(group: EncodedAppend[], now: string): Promise<GroupAnswer>;
  close(): Promise<void>;
}

function answerFor(writer: GroupWriter, group: EncodedAppend[], now: string): GroupAnswer {
  try {
    return { outcomes: writer.commit(group, now) };
  } catch (error) {
    return { failed: refusalOf(error) };
  }
}

/** `:memory:` has no file a second connection could open: its groups are committed on the store's connection. */
class InlineCommitter implements Committer {
  private readonly writer: GroupWriter;

  constructor(db: Database.Database) {
    this.writer = new GroupWriter(db);
  }

  async commit(group: EncodedAppend[], now: string): Promise<GroupAnswer> {
    return answerFor(this.writer, group, now);
  }

  async close(): Promise<void> {}
}

interface WriterRequest {
  group: EncodedAppend[];
  now: string;
}

/**
 * Commits a file's groups on a worker thread with its own connection, so the fsync of each commit (milliseconds on a
 * busy disk) waits there and not on the event loop. One group is in flight at a time. The thread starts with the first
 * append, so a store that only reads never starts one, and it does not hold the process open while it has nothing to
 * commit. A thread that dies fails the group it held (its outcome is unknown to the caller: the store was unavailable)
 * and the next group starts a new thread.
 */
class ThreadCommitter implements Committer {
  private worker?: Worker;
  private waiting?: (answer: GroupAnswer) => void;

  constructor(private readonly filename: string) {}

  commit(group: EncodedAppend[], now: string): Promise<GroupAnswer> {
    const worker = (this.worker ??= this.start());
    worker.ref();
    return new Promise<GroupAnswer>((resolve) => {
      this.waiting = resolve;
      worker.postMessage({ group, now } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Held open until the thread has closed its connection, or the process could end first.
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(__filename, {
      workerData: { role: WRITER_ROLE, filename: this.filename },
      // Tests load this file from its TypeScript source; the built service runs the compiled file.
      ...(__filename.endsWith('.ts') && { execArgv: ['--require', 'ts-node/register/transpile-only'] }),
    });
    worker.on('message', (answer: GroupAnswer) => {
      worker.unref();
      this.answer(answer);
    });
    const stopped = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      this.answer({ failed: { kind: 'failed', message: `The SQLite writer thread stopped: ${reason}` } });
    };
    worker.on('error', (error) => stopped(error.message));
    worker.on('exit', (code) => stopped(`exit code ${code}`));
    return worker;
  }

  private answer(answer: GroupAnswer): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(answer);
  }
}

/**
 * The writer thread: commits each group it is sent and answers; closes its connection when told. Checkpoints (copying
 * the write-ahead log back into the database file, and syncing that) are left to a thread of their own: run by the
 * commit that crossed SQLite's threshold, they made that commit take 80 to 160 ms on a busy disk, against 1 to 2 ms
 * for most, and every request waiting on it waited that long too.
 */
function serveAsWriter(filename: string): void {
  const port = parentPort!;
  const db = openDatabase(filename);
  db.pragma('wal_autocheckpoint = 0');
  const writer = new GroupWriter(db);
  const checkpointer = new Worker(__filename, { workerData: { role: CHECKPOINTER_ROLE, filename } });
  port.on('message', (request: WriterRequest | 'close') => {
    if (request !== 'close') {
      port.postMessage(answerFor(writer, request.group, request.now));
      return;
    }
    db.close();
    checkpointer.once('exit', () => port.close());
    checkpointer.postMessage('close');
  });
}

/**
 * The checkpointer thread: a passive checkpoint every CHECKPOINT_INTERVAL_MS. A passive checkpoint never blocks the
 * writer, and copies only what no reader still needs, so the log stays short without any commit paying for it.
 */
function serveAsCheckpointer(filename: string): void {
  const port = parentPort!;
  const db = openDatabase(filename);
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing this time: the log only grows until the next attempt, and nothing committed is at risk.
    }
  }, CHECKPOINT_INTERVAL_MS);
  port.on('message', () => {
    clearInterval(timer);
    db.close();
    port.close();
  });
}

/**
 * The embedded default: one SQLite file in WAL mode with full fsync, so an acknowledged append survives a crash of
 * the process or the machine. Writers serialise on SQLite's write lock (BEGIN IMMEDIATE).
 *
 * Group commit: `append` queues and returns a promise. Appends are committed in groups, one transaction and one fsync
 * per group, by a writer thread with its own connection to the file, so the event loop goes on serving requests while
 * a commit waits for the disk. Appends queued while a group is being committed form the next group; when nothing is
 * in flight, the queue is sent after the current turn of the event loop, so the appends of one burst (a `Promise.all`)
 * share a group, and a lone append waits for nothing but the end of its turn. Reads use the store's own connection on
 * this thread; an append is answered only once its group has committed, so by then what it wrote is readable here.
 * A private `:memory:` database has no file to share with a thread, and commits on the store's connection.
 */
export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly clock: () => Date;
  private readonly statements;
  private readonly committer: Committer;
  private readonly queue: PendingAppend[] = [];
  private sendScheduled?: NodeJS.Immediate;
  private inFlight?: Promise<void>;
  private closed = false;

  constructor(private readonly options: SqliteEventStoreOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.clock = options.clock ?? (() => new Date());
    try {
      this.db = openDatabase(options.filename);
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new EventStoreUnavailableError(`Cannot open SQLite event store at ${options.filename}: ${String(error)}`, {
        cause: error,
      });
    }
    this.statements = {
      streamVersion: this.db.prepare<[string], { version: number | null }>(
        'SELECT MAX(version) AS version FROM events WHERE stream_id = ?',
      ),
      insert: prepareInsert(this.db),
      readStream: this.db.prepare<[string, number, number, string, number], EventRow>(
        `SELECT * FROM events WHERE stream_id = ? AND version >= ? AND version <= ? AND recorded_at <= ?
         ORDER BY version LIMIT ?`,
      ),
      readAll: this.db.prepare<[bigint, number], EventRow>(
        'SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?',
      ),
      head: this.db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
    };
    const inMemory = options.filename === ':memory:' || options.filename === '';
    this.committer = inMemory ? new InlineCommitter(this.db) : new ThreadCommitter(options.filename);
  }

  /**
   * Queued, then committed with the appends queued beside it (see {@link SqliteEventStore}). Resolves only once that
   * transaction is committed to disk.
   */
  append(streamId: string, events: EventToAppend[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('SQLite event store is closed'));
    let encoded: EncodedEvent[];
    try {
      encoded = events.map(({ eventId, type, data, metadata }) => ({
        eventId,
        type,
        data: JSON.stringify(data),
        metadata: JSON.stringify(metadata),
      }));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events: encoded, expectedVersion, resolve, reject });
      if (this.inFlight === undefined) this.sendScheduled ??= setImmediate(() => this.sendNext());
    });
  }

  /** Sends the next group unless one is in flight; once it is answered, sends what queued meanwhile. */
  private sendNext(): void {
    this.sendScheduled = undefined;
    if (this.inFlight !== undefined || this.queue.length === 0) return;
    const group = this.queue.splice(0, MAX_GROUP);
    const appends = group.map(({ streamId, events, expectedVersion }) => ({ streamId, events, expectedVersion }));
    this.inFlight = this.committer.commit(appends, this.clock().toISOString()).then((answer) => {
      this.inFlight = undefined;
      this.settle(group, answer);
      this.sendNext();
    });
  }

  private settle(group: PendingAppend[], answer: GroupAnswer): void {
    if ('failed' in answer) {
      const error = errorOf(answer.failed);
      group.forEach((pending) => pending.reject(error));
      return;
    }
    if (answer.outcomes.some((outcome) => outcome.ok && outcome.result.written)) {
      appendsByFile.emit(this.options.filename);
    }
    answer.outcomes.forEach((outcome, index) =>
      outcome.ok ? group[index].resolve(outcome.result) : group[index].reject(errorOf(outcome.refusal)),
    );
  }

  /** Resolves once every append queued so far is committed and answered. */
  private async drained(): Promise<void> {
    if (this.sendScheduled) clearImmediate(this.sendScheduled);
    this.sendNext();
    while (this.inFlight !== undefined) await this.inFlight;
  }

  async copyIn(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Appends queued before the copy are written before it, as they would have been without grouping.
    await this.drained();
    this.db
      .transaction(() => {
        const next = new Map<string, number>();
        for (const event of events) {
          const expected =
            next.get(event.streamId) ?? (this.statements.streamVersion.get(event.streamId)?.version ?? -1) + 1;
          if (event.version !== expected) {
            throw new WrongExpectedVersionError(event.streamId, expected - 1, expected - 1);
          }
          this.statements.insert.run(
            event.eventId,
            event.streamId,
            event.version,
            event.type,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata),
            event.recordedAt,
          );
          next.set(event.streamId, event.version + 1);
        }
      })
      .immediate();
    appendsByFile.emit(this.options.filename);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const rows = this.statements.readStream.all(
      streamId,
      options.fromVersion ?? 0,
      options.toVersion ?? Number.MAX_SAFE_INTEGER,
      options.toRecordedAt ?? '9999-12-31T23:59:59.999Z',
      options.limit ?? -1,
    );
    return rows.map(toStored);
  }

  async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
    return this.statements.readAll.all(options.after ?? 0n, options.limit).map(toStored);
  }

  async headPosition(): Promise<bigint> {
    return BigInt(this.statements.head.get()?.position ?? 0);
  }

  async *subscribe(options: SubscribeOptions): AsyncIterable<StoredEvent[]> {
    let after = options.after ?? 0n;
    const batchSize = options.batchSize ?? 500;
    while (!options.signal?.aborted && !this.closed) {
      const batch = await this.readAll({ after, limit: batchSize });
      if (batch.length > 0) {
        after = batch[batch.length - 1].position;
        yield batch;
        continue;
      }
      await waitForWake(appendsByFile, this.options.filename, this.pollIntervalMs, options.signal);
    }
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends already accepted are committed (and answered) before the file is closed.
    await this.drained();
    await this.committer.close();
    this.db.close();
  }
}

function versionMatches(expected: ExpectedVersion, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no-stream') return current === -1;
  return expected === current;
}

if (!isMainThread) {
  const { role, filename } = (workerData ?? {}) as { role?: unknown; filename: string };
  if (role === WRITER_ROLE) serveAsWriter(filename);
  if (role === CHECKPOINTER_ROLE) serveAsCheckpointer(filename);
}
