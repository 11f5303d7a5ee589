import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelContract } from './contract/read-model.contract';
import { SqliteReadModelStore } from './sqlite.read-model-store';

let dir: string | undefined;

readModelContract(
  'SQLite',
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'read-models-'));
    return new SqliteReadModelStore(join(dir, 'read-models.db'));
  },
  async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
);

describe('SQLite read models: checkpoints', () => {
  it('leave checkpoints to a thread from the first commit on', async () => {
    const at = mkdtempSync(join(tmpdir(), 'read-models-'));
    const store = new SqliteReadModelStore(join(at, 'read-models.db'));
    try {
      // The connection is internal: its checkpoint threshold shows who checkpoints.
      const { db } = store as unknown as { db: { pragma(text: string, options: { simple: true }): unknown } };
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      await store.commit('incidents.v2', { headers: [], facts: [] }, 1n, 0n);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      expect(await store.checkpoint('incidents.v2')).toBe(1n);
    } finally {
      await store.close();
      rmSync(at, { recursive: true, force: true });
    }
  });
});
