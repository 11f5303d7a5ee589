import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type LogEntry,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { FeedMessage } from './cloud-events';
import { FeedPublishError, type FeedPublisher } from './feed-publisher.port';

export interface PublisherLogger {
  warn(message: unknown, ...rest: unknown[]): void;
}

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId: string;
  /**
   * Every relay that publishes to the same topics uses the same transactional id. Initialising it bumps the producer
   * epoch at the broker, which fences any older producer with that id: a zombie relay can no longer commit.
   */
  transactionalId: string;
  logger?: PublisherLogger;
  /** Attempts kafkajs makes on a retriable error before the publish fails and the relay starts a new producer. */
  retries?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * Retries of the producer. Right after a commit the broker answers the next transaction's first request with
 * CONCURRENT_TRANSACTIONS until it has written the commit markers, which takes a few milliseconds; the first retry
 * comes after `initialRetryTime` (randomised, doubling), so at kafkajs's usual 100 ms every batch that follows a commit
 * closely waited about 100 ms for nothing. 10 ms answers within a retry or two; more retries keep the time a publish
 * may spend retrying a real outage (about 10 s, capped per attempt at 5 s) near what it was.
 */
export const PRODUCER_RETRY = { retries: 10, timing: { initialRetryTime: 10, maxRetryTime: 5000 } } as const;

/** Error types that say a newer producer holds the transactional id. */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** Keeps each produce request well under the broker's default message.max.bytes (1 MiB per record batch). */
const MAX_CHUNK_BYTES = 512 * 1024;
const MAX_CHUNK_MESSAGES = 500;

/**
 * The only file that imports kafkajs. A transactional, idempotent producer (acks from all in-sync replicas, one
 * request in flight): a batch is committed as a whole or not at all, and `publish` resolves only after the commit.
 * An unfinished transaction of a crashed relay is aborted by the broker when the next producer initialises the same
 * transactional id, so read-committed consumers never see half a batch.
 */
export class KafkaPublisher implements FeedPublisher {
  private readonly kafka: Kafka;
  private producer?: Producer;
  private admin?: Admin;

  constructor(private readonly options: KafkaPublisherOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30000,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.log(entry),
    });
  }

  async connect(): Promise<void> {
    try {
      this.admin = this.kafka.admin({ retry: { retries: 2 } });
      await this.admin.connect();
      this.producer = this.kafka.producer({
        transactionalId: this.options.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 30000,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: this.options.retries ?? PRODUCER_RETRY.retries, ...PRODUCER_RETRY.timing },
      });
      await this.producer.connect();
      // kafkajs initialises the transactional id lazily, on the first transaction; do it now, so that connecting is
      // what fences an older producer (an empty transaction aborts without a request to the broker).
      const claim = await this.producer.transaction();
      await claim.abort();
    } catch (error) {
      throw mapError('connect', error);
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const admin = this.connected().admin;
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
      if (missing.length === 0) return;
      // Partition count and replication factor are the broker's defaults (num.partitions, default.replication.factor).
      await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
    } catch (error) {
      throw mapError('create topics', error);
    }
  }

  async publish(messages: FeedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const { producer } = this.connected();
    let transaction;
    try {
      transaction = await producer.transaction();
      for (const chunk of chunks(messages)) {
        await transaction.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
      }
      await transaction.commit();
    } catch (error) {
      if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
      throw mapError('publish', error);
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    const { admin } = this.connected();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        admin.describeCluster(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      throw mapError('ping', error);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    const { producer, admin } = this;
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }

  private connected(): { producer: Producer; admin: Admin } {
    if (!this.producer || !this.admin) throw new FeedPublishError('the publisher is not connected', false);
    return { producer: this.producer, admin: this.admin };
  }

  /**
   * Passes on what kafkajs reports that the relay does not: per-request errors and attempts still being retried are
   * left out (the relay logs the failure once kafkajs gives up), so a broker outage is not a flood of lines.
   */
  private log({ namespace, level, log }: LogEntry): void {
    if (level > logLevel.WARN || namespace === 'Connection' || namespace === 'BrokerPool') return;
    const { message, timestamp: _timestamp, logger: _logger, ...extra } = log as unknown as Record<string, unknown>;
    if ('retryCount' in extra) return;
    // Bounded retries are safe here: a failed batch's transaction is aborted and re-sent from the checkpoint by a
    // new producer, so the warning kafkajs gives about them does not apply.
    if (typeof message === 'string' && message.startsWith('Limiting retries for the idempotent producer')) return;
    this.options.logger?.warn({ msg: `kafka: ${String(message)}`, namespace, ...extra });
  }
}

function mapError(operation: string, error: unknown): FeedPublishError {
  if (error instanceof FeedPublishError) return error;
  const fenced = causes(error).some((cause) => FENCED.has(String((cause as { type?: unknown }).type)));
  const message = error instanceof Error ? error.message : String(error);
  return new FeedPublishError(`Kafka ${operation} failed: ${message}`, fenced, { cause: error });
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 10; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

function* chunks(messages: FeedMessage[]): Generator<FeedMessage[]> {
  let chunk: FeedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.value) + Buffer.byteLength(message.key) + 256;
    if (chunk.length > 0 && (bytes + size > MAX_CHUNK_BYTES || chunk.length >= MAX_CHUNK_MESSAGES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** Groups by topic, keeping the order of messages within each topic (and so within each key). */
function byTopic(messages: FeedMessage[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const { topic, key, value, headers } of messages) {
    const list = topics.get(topic) ?? [];
    list.push({ key, value, headers });
    topics.set(topic, list);
  }
  return [...topics].map(([topic, list]) => ({ topic, messages: list }));
}
