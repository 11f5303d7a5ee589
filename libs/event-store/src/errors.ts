import type { ExpectedVersion } from './event-store.port';

/** The stream's version did not match the expected one; nothing was written. */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    /** Current version, or -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`Stream ${streamId}: expected version ${String(expected)}, actual ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** Some, but not all, of the event ids were already stored (or stored elsewhere); nothing was written. */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamId: string,
    readonly eventIds: string[],
  ) {
    super(`Stream ${streamId}: event ids already stored differently: ${eventIds.join(', ')}`);
    this.name = 'DuplicateEventIdError';
  }
}

/** The store could not be reached or failed; the operation's outcome is unknown to the caller. */
export class EventStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}
