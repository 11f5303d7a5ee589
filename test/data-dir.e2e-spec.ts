import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { openRelayState } from '@app/feeds';
import { ApiClient, startTestApp } from '@app/testing';

/**
 * The data directory holds every incident and every actor, so nobody but its owner may read it: DATA_DIR is created
 * 0700, every database file (the event log with its -wal and -shm, the read models, the relay's checkpoint) is 0600,
 * and an existing DATA_DIR open to group or others stops the start with a message saying what to do.
 */

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('data directory permissions (e2e)', () => {
  const root = mkdtempSync(join(tmpdir(), 'incident-data-dir-'));

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates DATA_DIR 0700 and every database file 0600, the write-ahead log and shared memory included', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const app = await startTestApp({ dataDir });
    try {
      const api = new ApiClient(app.baseUrl, app.adminToken);
      const opened = await api.post('/v1/incidents', { id: 'modes', title: 'Modes', category: 'other' });
      expect(opened.status).toBe(201);
      expect((await api.get(`/v1/incidents/modes?minPosition=${opened.body.position}`)).status).toBe(200);

      expect(mode(dataDir)).toBe('700');
      const files = ['read-models.db', 'read-models.db-wal', 'read-models.db-shm'];
      if (app.config.eventStore === 'sqlite') files.push('events.db', 'events.db-wal', 'events.db-shm');
      for (const file of files) {
        expect({ file, exists: existsSync(join(dataDir, file)) }).toEqual({ file, exists: true });
        expect({ file, mode: mode(join(dataDir, file)) }).toEqual({ file, mode: '600' });
      }
    } finally {
      await app.close();
    }
  });

  it("creates the relay's checkpoint file 0600", async () => {
    const dataDir = join(root, 'relay');
    const config = loadConfig({ DATA_DIR: dataDir, KAFKA_BROKERS: '127.0.0.1:9', RELAY: 'true' });
    const state = (await openRelayState(config))!;
    try {
      expect(mode(dataDir)).toBe('700');
      expect(mode(join(dataDir, 'relay.db'))).toBe('600');
    } finally {
      await state.close();
    }
  });

  it('refuses to start on a DATA_DIR readable by others, naming the variable and the fix', async () => {
    const dataDir = join(root, 'shared');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    // Should it start after all, it is closed again, so the failure is the assertion and not a dangling server.
    const started = startTestApp({ dataDir }).then(async (app) => {
      await app.close();
      return app;
    });
    await expect(started).rejects.toThrow(
      `Invalid configuration: DATA_DIR ${dataDir} is open to group or others (mode 0755)`,
    );
    expect(existsSync(join(dataDir, 'events.db'))).toBe(false);
    expect(existsSync(join(dataDir, 'read-models.db'))).toBe(false);
  });

  it('starts on a shared DATA_DIR when DATA_DIR_ALLOW_SHARED=true, and tightens database files already there', async () => {
    const dataDir = join(root, 'allowed');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o750);
    for (const file of ['events.db', 'read-models.db']) closeSync(openSync(join(dataDir, file), 'w', 0o644));
    for (const file of ['events.db', 'read-models.db']) chmodSync(join(dataDir, file), 0o644);
    const app = await startTestApp({ dataDir, env: { DATA_DIR_ALLOW_SHARED: 'true' } });
    try {
      expect(mode(dataDir)).toBe('750');
      expect(mode(join(dataDir, 'read-models.db'))).toBe('600');
      if (app.config.eventStore === 'sqlite') expect(mode(join(dataDir, 'events.db'))).toBe('600');
    } finally {
      await app.close();
    }
  });
});
