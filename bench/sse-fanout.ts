/**
 * The cost of open SSE feeds to the writer: HTTP write throughput with no feed client, then with 50 clients reading
 * /v1/feeds/events (each receives every event). One subscription serves them all, so the ratio should stay near 1.
 */
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { createApp } from '../apps/api/src/app.factory';

export interface FanOutResult {
  name: string;
  operations: number;
  seconds: number;
  p50?: number;
  p99?: number;
}

const CLIENTS = 50;
const WRITES = 1000;
const CONCURRENCY = 8;

/** Reads an SSE stream to the end, counting frames that carry an id. */
async function readFeed(url: string, signal: AbortSignal, counted: { frames: number }): Promise<void> {
  const response = await fetch(url, { signal, headers: { accept: 'text/event-stream' } });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        if (buffer.startsWith('id: ')) counted.frames += 1;
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

export async function sseFanOutBenchmarks(dir: string): Promise<FanOutResult[]> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: join(dir, 'sse-fanout'),
    LOG_LEVEL: 'error',
    AUTH: 'off',
    SSE_MAX_SESSIONS_PER_PRINCIPAL: String(CLIENTS),
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const results: FanOutResult[] = [];
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < 50; i += 1) await post('/v1/incidents', { id: `fan-${i}`, title: `Fan ${i}`, category: 'other' });

  const writes = async (name: string) => {
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < WRITES) {
          const i = next++;
          const t0 = process.hrtime.bigint();
          await post(`/v1/incidents/fan-${i % 50}/facts`, { kind: 'other', occurredAt: '2023-06', summary: `f ${i}` });
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    results.push({ name, operations: WRITES, seconds, p50: at(50), p99: at(99) });
    return seconds;
  };

  const alone = await writes('sse: record fact, no feed client');
  const controller = new AbortController();
  const counted = { frames: 0 };
  const feeds = Array.from({ length: CLIENTS }, () => readFeed(`${base}/v1/feeds/events`, controller.signal, counted));
  const crowded = await writes(`sse: record fact, ${CLIENTS} feed clients`);
  controller.abort();
  await Promise.allSettled(feeds);
  await app.close();
  console.log(
    `sse fan-out: write throughput with ${CLIENTS} feed clients = ${(alone / crowded).toFixed(2)}x of none ` +
      `(${counted.frames} frames delivered, ${CLIENTS * WRITES} expected at most)`,
  );
  return results;
}
