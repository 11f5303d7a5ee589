import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEventStoreContract } from './contract/event-store.contract';
import { SqliteEventStore } from './sqlite.event-store';

runEventStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'events-'));
  const store = new SqliteEventStore({ filename: join(dir, 'events.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
