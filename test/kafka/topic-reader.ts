import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * A consumer that reads topics from the beginning (read-committed, as kafkajs does by default) in a consumer group of
 * its own, and keeps every message it sees, for the suites to inspect.
 */
export class TopicReader {
  readonly messages: ReceivedMessage[] = [];
  private readonly changed = new EventEmitter().setMaxListeners(0);
  private failure?: unknown;

  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[], topics: string[]): Promise<TopicReader> {
    const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `test-reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 200 });
    const reader = new TopicReader(consumer);
    await waitForTopics(kafka, topics);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
          }
          reader.messages.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? '',
            value: message.value?.toString('utf8') ?? '',
            headers,
          });
          reader.changed.emit('message');
        },
      })
      .catch((error: unknown) => {
        reader.failure = error;
        reader.changed.emit('message');
      });
    return reader;
  }

  on(topic: string): ReceivedMessage[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  /** Resolves once `condition` holds, re-checked on every message; fails after `timeoutMs` saying `what`. */
  async until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.failure !== undefined) return finish(new Error(`consumer failed: ${String(this.failure)}`));
        if (condition()) finish();
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.changed.off('message', check);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new Error(`${what}: not reached within ${timeoutMs} ms (${this.messages.length} messages read)`)),
        timeoutMs,
      );
      this.changed.on('message', check);
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** The relay creates its topics when it starts; a subscription to a topic that does not exist yet fails. */
async function waitForTopics(kafka: Kafka, topics: string[], timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`topics ${missing.join(', ')} were not created within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
