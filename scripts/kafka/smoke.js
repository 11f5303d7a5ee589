#!/usr/bin/env node
// Smoke check for the local Kafka broker (scripts/kafka/start.sh), using the project's kafkajs.
//   node scripts/kafka/smoke.js                   create topic `smoke` if missing, produce one message,
//                                                 consume it back from the beginning.
//   node scripts/kafka/smoke.js --expect-existing additionally require that `smoke` already exists
//                                                 and still holds earlier messages (restart with
//                                                 KAFKA_KEEP_DATA=1).
// Broker address: KAFKA_BROKERS (comma-separated), default 127.0.0.1:9092. Exit code 0 = pass.
'use strict';

const { Kafka, logLevel, Partitioners } = require('kafkajs');

const TOPIC = 'smoke';
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
const expectExisting = process.argv.includes('--expect-existing');
const TIMEOUT_MS = 30000;

function log(msg) {
  console.log(`[smoke] ${msg}`);
}

async function main() {
  const kafka = new Kafka({ clientId: 'kafka-smoke', brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `smoke-${process.pid}-${Date.now()}` });
  const t0 = Date.now();
  try {
    await admin.connect();
    const before = await admin.listTopics();
    const existed = before.includes(TOPIC);
    log(`brokers=${brokers.join(',')} topics=${JSON.stringify(before)}`);
    if (expectExisting && !existed) throw new Error(`topic "${TOPIC}" does not exist but --expect-existing was given`);
    if (!existed) {
      const created = await admin.createTopics({
        topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      log(`created topic "${TOPIC}" (${created})`);
    } else {
      log(`topic "${TOPIC}" already exists`);
    }
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    log(`offsets before produce: ${JSON.stringify(offsets.map((o) => ({ p: o.partition, low: o.low, high: o.high })))}`);

    const value = `hello-${Date.now()}`;
    await producer.connect();
    const [meta] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: 'k', value }] });
    log(`produced "${value}" at partition ${meta.partition} offset ${meta.baseOffset}`);

    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    const seen = [];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not consume "${value}" within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            const v = message.value.toString();
            seen.push(v);
            if (v === value) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    log(`consumed ${seen.length} message(s) from the beginning: ${JSON.stringify(seen)}`);
    if (expectExisting && seen.length < 2) throw new Error('expected earlier messages to survive the restart');
    log(`PASS in ${Date.now() - t0} ms`);
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[smoke] FAIL: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
