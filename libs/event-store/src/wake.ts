import type { EventEmitter } from 'node:events';

/** Resolves on the first of: an emitted wake-up for `channel`, the poll interval, or the abort signal. */
export function waitForWake(
  emitter: EventEmitter,
  channel: string,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      emitter.off(channel, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, intervalMs);
    emitter.on(channel, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
