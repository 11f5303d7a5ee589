import { LeaseLostError, RelayCheckpointMovedError, type RelayStateStore } from '../relay-state.port';

/** Long enough that no lease of these tests expires by itself. */
const TTL_MS = 60_000;
const never = () => false;

/**
 * What every relay-state adapter must do, run against the real engine. `fresh` prepares a new, empty shared state
 * (a file, a schema) and `open` gives another handle on it, as another relay process would open it.
 */
export function relayStateContract(
  name: string,
  fresh: () => Promise<void>,
  open: () => Promise<RelayStateStore>,
  dispose: () => Promise<void>,
): void {
  describe(`relay-state contract: ${name}`, () => {
    const opened: RelayStateStore[] = [];
    const handle = async () => {
      const state = await open();
      opened.push(state);
      return state;
    };

    beforeEach(() => fresh());

    afterEach(async () => {
      for (const state of opened.splice(0)) await state.close();
      await dispose();
    });

    it('starts at checkpoint 0', async () => {
      expect(await (await handle()).checkpoint()).toBe(0n);
    });

    it('lets one relay hold the lease: another stands by and learns who holds it', async () => {
      const [a, b] = [await handle(), await handle()];
      expect(await a.tryAcquire('relay-a', TTL_MS, Date.now(), never)).toMatchObject({ held: true, holder: 'relay-a' });
      expect(await b.tryAcquire('relay-b', TTL_MS, Date.now(), never)).toMatchObject({
        held: false,
        holder: 'relay-a',
      });
      // Asking again while holding it keeps it.
      expect((await a.tryAcquire('relay-a', TTL_MS, Date.now(), never)).held).toBe(true);
      expect(await a.renew('relay-a', TTL_MS, Date.now())).toBe(true);
      expect(await b.renew('relay-b', TTL_MS, Date.now())).toBe(false);
      expect((await b.tryAcquire('relay-b', TTL_MS, Date.now(), never)).held).toBe(false);
    });

    it('passes the lease on at once when its holder releases it', async () => {
      const [a, b] = [await handle(), await handle()];
      expect((await a.tryAcquire('relay-a', TTL_MS, Date.now(), never)).held).toBe(true);
      await a.release('relay-a');
      expect((await b.tryAcquire('relay-b', TTL_MS, Date.now(), never)).held).toBe(true);
      expect(await a.tryAcquire('relay-a', TTL_MS, Date.now(), never)).toMatchObject({
        held: false,
        holder: 'relay-b',
      });
    });

    it('moves the shared checkpoint only for the holder, and only from the expected position', async () => {
      const [a, b] = [await handle(), await handle()];
      await a.tryAcquire('relay-a', TTL_MS, Date.now(), never);
      await b.tryAcquire('relay-b', TTL_MS, Date.now(), never);
      await a.advance('relay-a', 0n, 10n, Date.now());
      expect(await a.checkpoint()).toBe(10n);
      expect(await b.checkpoint()).toBe(10n);
      await expect(b.advance('relay-b', 10n, 20n, Date.now())).rejects.toThrow(LeaseLostError);
      await expect(a.advance('relay-a', 5n, 20n, Date.now())).rejects.toThrow(RelayCheckpointMovedError);
      expect(await b.checkpoint()).toBe(10n);
    });

    it('keeps the checkpoint when every relay has gone', async () => {
      const a = await handle();
      await a.tryAcquire('relay-a', TTL_MS, Date.now(), never);
      await a.advance('relay-a', 0n, 7n, Date.now());
      await a.release('relay-a');
      await a.close();
      opened.splice(opened.indexOf(a), 1);
      const later = await handle();
      expect(await later.checkpoint()).toBe(7n);
      expect((await later.tryAcquire('relay-c', TTL_MS, Date.now(), never)).held).toBe(true);
      await later.advance('relay-c', 7n, 9n, Date.now());
      expect(await later.checkpoint()).toBe(9n);
    });
  });
}
