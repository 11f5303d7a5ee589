/**
 * An appending process for sqlite.group-commit.spec.ts, spawned with ts-node and killed with SIGKILL. It opens the
 * SQLite store named by APPENDER_FILE and appends bursts of concurrent single-event appends, forever, so that most of
 * its life is spent inside group commits. Each append it sees acknowledged is reported on stdout as one line
 * `ack <eventId> <streamId> <version> <position>`, written only after the append's promise has resolved.
 */
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../sqlite.event-store';

const BURST = 64;
const STREAMS = 16;

async function main(): Promise<void> {
  const store = new SqliteEventStore({ filename: process.env.APPENDER_FILE! });
  process.stdout.write('ready\n');
  for (;;) {
    await Promise.all(
      Array.from({ length: BURST }, async (_, index) => {
        const streamId = `stream-${process.pid}-${index % STREAMS}`;
        const eventId = randomUUID();
        const result = await store.append(streamId, [{ eventId, type: 'Appended', data: {}, metadata: {} }], 'any');
        process.stdout.write(`ack ${eventId} ${streamId} ${result.version} ${result.position}\n`);
      }),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
