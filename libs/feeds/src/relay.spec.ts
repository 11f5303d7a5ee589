import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import {
  connectRaw,
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../../event-store/src/contract/postgres.fixture';
import type { FeedMessage } from './cloud-events';
import { FeedPublishError, type FeedPublisher } from './feed-publisher.port';
import { relayStateContract } from './contract/relay-state.contract';
import { PostgresRelayState } from './postgres.relay-state';
import { leaseHolderGone, Relay } from './relay';
import { LeaseLostError } from './relay-state.port';
import { SqliteRelayCheckpoint } from './sqlite.relay-checkpoint';

const TOPICS = { events: 'events', statusChanges: 'status' };

/**
 * Records what it was asked to publish; `gate` lets a test hold a publish open (and `publishing` resolves with the
 * batch as soon as a publish is waiting at the gate), `failNext` makes one fail.
 */
class FakeBroker {
  readonly published: FeedMessage[] = [];
  readonly publishers: FakePublisher[] = [];
  gate?: Promise<void>;
  failNext = 0;
  reachable = true;
  /** Publishes begun, whether or not they finished. */
  attempts = 0;
  private publishStarted!: (messages: FeedMessage[]) => void;
  readonly publishing = new Promise<FeedMessage[]>((resolve) => (this.publishStarted = resolve));

  started(messages: FeedMessage[]): void {
    this.attempts += 1;
    this.publishStarted(messages);
  }

  create = (): FeedPublisher => {
    const publisher = new FakePublisher(this);
    this.publishers.push(publisher);
    return publisher;
  };
}

class FakePublisher implements FeedPublisher {
  connected = false;
  constructor(private readonly broker: FakeBroker) {}
  async connect() {
    if (!this.broker.reachable) throw new FeedPublishError('broker down', false);
    this.connected = true;
  }
  async ensureTopics() {}
  async publish(messages: FeedMessage[]) {
    this.broker.started(messages);
    await this.broker.gate;
    if (!this.connected) throw new FeedPublishError('disconnected', false);
    if (this.broker.failNext > 0) {
      this.broker.failNext -= 1;
      throw new FeedPublishError('request timed out', false);
    }
    this.broker.published.push(...messages);
  }
  async ping() {
    if (!this.broker.reachable) throw new FeedPublishError('broker down', false);
  }
  async disconnect() {
    this.connected = false;
  }
}

/** Polls a condition with a deadline. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Relay', () => {
  let dir: string;
  let store: SqliteEventStore;
  const relays: Relay[] = [];
  const states: SqliteRelayCheckpoint[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-spec-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), pollIntervalMs: 20 });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    for (const state of states.splice(0)) await state.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function relay(broker: FakeBroker, leaseMs = 10_000): { relay: Relay; state: SqliteRelayCheckpoint } {
    const state = new SqliteRelayCheckpoint(join(dir, 'relay.db'), 'kafka:test');
    const created = new Relay(store, state, broker.create, {
      topics: TOPICS,
      batchSize: 3,
      leaseMs,
      heartbeatMs: 20,
      retryDelayMs: 10,
      maxRetryDelayMs: 20,
      stopGraceMs: 100,
    });
    relays.push(created);
    states.push(state);
    return { relay: created, state };
  }

  async function append(incident: string, count: number, from = 0): Promise<bigint> {
    let position = 0n;
    for (let version = from; version < from + count; version += 1) {
      const result = await store.append(
        `incident-${incident}`,
        [
          {
            eventId: randomUUID(),
            type: version % 2 === 1 ? 'IncidentStatusChanged' : 'FactRecorded',
            data: { version },
            metadata: { schemaVersion: 1 },
          },
        ],
        version === 0 ? 'no-stream' : version - 1,
      );
      position = result.position;
    }
    return position;
  }

  const positions = (messages: FeedMessage[]) =>
    messages.filter((message) => message.topic === TOPICS.events).map((message) => Number(message.headers.ce_position));

  it('publishes every event, and status changes to their own topic too', async () => {
    const broker = new FakeBroker();
    const head = await append('a', 6);
    const { relay: subject, state } = relay(broker);
    subject.start();
    expect(await subject.waitFor(head, 5000)).toBe(true);
    expect(positions(broker.published)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(broker.published.filter((message) => message.topic === TOPICS.statusChanges)).toHaveLength(3);
    expect(await state.checkpoint()).toBe(6n);
    expect(await subject.lag()).toBe(0n);
  });

  it('moves the checkpoint only after the broker has acknowledged the batch', async () => {
    const broker = new FakeBroker();
    let acknowledge!: () => void;
    broker.gate = new Promise((resolve) => (acknowledge = resolve));
    await append('a', 3);
    const { relay: subject, state } = relay(broker);
    subject.start();
    // The relay has read the batch and handed it to the broker, which has not answered yet.
    expect(positions(await broker.publishing)).toEqual([1, 2, 3]);
    expect(await state.checkpoint()).toBe(0n);
    expect(await subject.checkpoint()).toBe(0n);
    expect(await subject.waitFor(1n, 0)).toBe(false);
    expect(broker.published).toEqual([]);
    acknowledge();
    expect(await subject.waitFor(3n, 5000)).toBe(true);
    expect(await state.checkpoint()).toBe(3n);
  });

  it('after a failed publish, makes a new producer and resumes from the checkpoint without a gap', async () => {
    const broker = new FakeBroker();
    await append('a', 3);
    const { relay: subject } = relay(broker);
    subject.start();
    expect(await subject.waitFor(3n, 5000)).toBe(true);
    broker.failNext = 2;
    const head = await append('a', 4, 3);
    expect(await subject.waitFor(head, 5000)).toBe(true);
    expect(broker.publishers.length).toBe(3);
    expect(broker.publishers.filter((publisher) => publisher.connected)).toHaveLength(1);
    expect(positions(broker.published)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('reports unhealthy while the broker is unreachable, healthy again once it answers', async () => {
    const broker = new FakeBroker();
    const { relay: subject } = relay(broker);
    subject.start();
    await until(() => subject.currentRole === 'active');
    await until(() => broker.publishers.some((publisher) => publisher.connected));
    expect(await subject.health(100)).toMatchObject({ ok: true, role: 'active', brokerReachable: true, lag: 0 });
    broker.reachable = false;
    await until(async () => !(await subject.health(100)).ok);
    expect(await subject.health(100)).toMatchObject({
      ok: false,
      brokerReachable: false,
      detail: expect.stringContaining('broker'),
    });
    broker.reachable = true;
    await until(async () => (await subject.health(100)).ok);
  });

  it('stopped while it is taking the lease, publishes nothing and gives the lease up', async () => {
    const broker = new FakeBroker();
    await append('a', 3);
    const { relay: subject, state } = relay(broker);
    // The lease is granted only after stop() has been called.
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => (grant = resolve));
    let asked!: () => void;
    const asking = new Promise<void>((resolve) => (asked = resolve));
    const acquire = state.tryAcquire.bind(state);
    state.tryAcquire = async (...args) => {
      asked();
      await granted;
      return acquire(...args);
    };
    subject.start();
    await asking;
    const stopped = subject.stop();
    grant();
    await stopped;
    expect(subject.currentRole).toBe('stopped');
    expect(broker.publishers).toEqual([]);
    expect(broker.published).toEqual([]);
    // The lease was given up: another relay takes it at once and publishes from the start.
    const next = relay(new FakeBroker()).relay;
    next.start();
    expect(await next.waitFor(3n, 5000)).toBe(true);
  });

  it('lets one relay publish at a time: the second stands by, and takes over from the checkpoint', async () => {
    const first = new FakeBroker();
    const second = new FakeBroker();
    await append('a', 4);
    const active = relay(first).relay;
    active.start();
    expect(await active.waitFor(4n, 5000)).toBe(true);
    const standby = relay(second).relay;
    standby.start();
    await until(() => standby.currentRole === 'standby');
    expect((await standby.health(100)).ok).toBe(true);
    await append('a', 2, 4);
    expect(await active.waitFor(6n, 5000)).toBe(true);
    expect(second.published).toEqual([]);

    await active.stop();
    const head = await append('a', 2, 6);
    await until(() => standby.currentRole === 'active');
    expect(await standby.waitFor(head, 5000)).toBe(true);
    expect(positions(first.published)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(positions(second.published)).toEqual([7, 8]);
  });
});

describePostgres('Relay with its state in PostgreSQL', () => {
  const schema = freshSchemaName();
  let dir: string;
  let store: SqliteEventStore;
  const relays: Relay[] = [];
  const states: PostgresRelayState[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-pg-spec-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), pollIntervalMs: 20 });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    for (const state of states.splice(0)) await state.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterAll(() => dropSchema(schema));

  async function relay(broker: FakeBroker): Promise<{ relay: Relay; state: PostgresRelayState }> {
    const state = await PostgresRelayState.open({ connectionString: TEST_DATABASE_URL, schema, name: 'kafka:spec' });
    const created = new Relay(store, state, broker.create, {
      topics: TOPICS,
      batchSize: 2,
      // Renewal alone would notice the lost lock only much later: what stops the relay here is the lost signal.
      heartbeatMs: 60_000,
      retryDelayMs: 10,
      maxRetryDelayMs: 20,
      stopGraceMs: 100,
    });
    relays.push(created);
    states.push(state);
    return { relay: created, state };
  }

  async function append(count: number, from: number): Promise<bigint> {
    let position = 0n;
    for (let version = from; version < from + count; version += 1) {
      const event = { eventId: randomUUID(), type: 'FactRecorded', data: { version }, metadata: { schemaVersion: 1 } };
      position = (await store.append('incident-pg', [event], version === 0 ? 'no-stream' : version - 1)).position;
    }
    return position;
  }

  const positions = (messages: FeedMessage[]) =>
    messages.filter((message) => message.topic === TOPICS.events).map((message) => Number(message.headers.ce_position));

  it('stops publishing once its lock session ends, cutting off the batch in flight; a standby takes over', async () => {
    const first = new FakeBroker();
    const second = new FakeBroker();
    await append(4, 0);
    const { relay: active, state } = await relay(first);
    active.start();
    expect(await active.waitFor(4n, 10_000)).toBe(true);
    const standby = (await relay(second)).relay;
    standby.start();
    await until(() => standby.currentRole === 'standby', 10_000);

    // The next batch reaches the broker, which holds it open.
    let acknowledge!: () => void;
    first.gate = new Promise((resolve) => (acknowledge = resolve));
    try {
      const head = await append(2, 4);
      await until(() => first.attempts >= 3, 10_000);

      const raw = await connectRaw();
      try {
        const { classid, objid } = state.lockInPgLocks;
        await raw.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted`,
          [classid, objid],
        );
      } finally {
        await raw.end();
      }
      // The producer holding the unfinished batch is cut off, and the other relay publishes from the checkpoint.
      await until(() => first.publishers.every((publisher) => !publisher.connected), 10_000);
      expect(await standby.waitFor(head, 10_000)).toBe(true);
    } finally {
      acknowledge();
    }
    await until(() => active.currentRole === 'standby', 10_000);
    expect(positions(first.published)).toEqual([1, 2, 3, 4]);
    expect(positions(second.published)).toEqual([5, 6]);
    expect(await state.checkpoint()).toBe(6n);
  });
});

let contractDir: string;
relayStateContract(
  'SQLite (relay.db)',
  async () => {
    contractDir = mkdtempSync(join(tmpdir(), 'relay-contract-'));
  },
  async () => new SqliteRelayCheckpoint(join(contractDir, 'relay.db'), 'kafka:contract'),
  async () => rmSync(contractDir, { recursive: true, force: true }),
);

describe('SqliteRelayCheckpoint lease', () => {
  let dir: string;
  let state: SqliteRelayCheckpoint;
  const never = () => false;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-lease-'));
    state = new SqliteRelayCheckpoint(join(dir, 'relay.db'), 'kafka:t');
  });

  afterEach(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is held by one owner until it expires, is released, or its holder is gone', async () => {
    expect(await state.tryAcquire('a', 1000, 0, never)).toEqual({ held: true, holder: 'a', expiresAt: 1000 });
    expect(await state.tryAcquire('b', 1000, 500, never)).toEqual({ held: false, holder: 'a', expiresAt: 1000 });
    expect((await state.tryAcquire('b', 1000, 500, (holder) => holder === 'a')).held).toBe(true);
    expect(await state.renew('a', 1000, 600)).toBe(false);
    expect((await state.tryAcquire('a', 1000, 1400, never)).held).toBe(false);
    expect((await state.tryAcquire('a', 1000, 1500, never)).held).toBe(true);
    await state.release('a');
    expect((await state.tryAcquire('c', 1000, 1600, never)).held).toBe(true);
  });

  it('moves the checkpoint only for the holder of an unexpired lease, from the expected position', async () => {
    await state.tryAcquire('a', 1000, 0, never);
    await state.advance('a', 0n, 10n, 100);
    expect(await state.checkpoint()).toBe(10n);
    await expect(state.advance('a', 10n, 20n, 1000)).rejects.toThrow(LeaseLostError);
    await expect(state.advance('b', 10n, 20n, 100)).rejects.toThrow(LeaseLostError);
    await expect(state.advance('a', 5n, 20n, 100)).rejects.toThrow(/moved/);
    expect(await state.checkpoint()).toBe(10n);
  });
});

describe('leaseHolderGone', () => {
  it('is true only for a process of this host that no longer exists', () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    expect(leaseHolderGone(`${hostname()}/${deadPid}/x`)).toBe(true);
    expect(leaseHolderGone(`${hostname()}/${process.pid}/x`)).toBe(false);
    expect(leaseHolderGone(`${hostname()}/1/x`)).toBe(false);
    expect(leaseHolderGone(`another-host.example/${deadPid}/x`)).toBe(false);
  });
});
