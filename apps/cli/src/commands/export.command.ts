import type { INestApplicationContext } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { EVENT_STORE, type EventStore } from '@app/event-store';

/** `export [file]`: the whole log as NDJSON, one event per line, oldest first (stdout when no file is given). */
export async function exportCommand(app: INestApplicationContext, args: string[]): Promise<number> {
  const store = app.get<EventStore>(EVENT_STORE);
  const out = args[0] ? createWriteStream(args[0]) : process.stdout;
  let after = 0n;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    if (page.length === 0) break;
    for (const event of page) {
      const line = JSON.stringify({ ...event, position: Number(event.position) });
      if (!out.write(`${line}\n`)) await once(out, 'drain');
      count += 1;
    }
    after = page[page.length - 1].position;
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  process.stderr.write(`exported ${count} event(s)\n`);
  return 0;
}
