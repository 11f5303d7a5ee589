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
