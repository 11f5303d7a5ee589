/** If-Match did not match the incident's current version (or it does not exist); nothing was appended. */
export class PreconditionFailedError extends Error {
  constructor(
    readonly ifMatch: string,
    /** -1 when the incident does not exist. */
    readonly currentVersion: number,
  ) {
    super(
      currentVersion < 0
        ? `If-Match ${ifMatch} does not match: the incident does not exist`
        : `If-Match ${ifMatch} does not match: the incident is at version ${currentVersion}` +
            (ifMatch.includes('W/') ? ' (a weak tag never matches)' : ''),
    );
    this.name = 'PreconditionFailedError';
  }
}

/** An Idempotency-Key was used before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  constructor() {
    super('This Idempotency-Key was already used with a different request');
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** The command kept losing races with concurrent writers. */
export class ConcurrencyExhaustedError extends Error {
  constructor(readonly streamId: string) {
    super(`Too many concurrent changes to ${streamId}; retry the command`);
    this.name = 'ConcurrencyExhaustedError';
  }
}

/** A query or command named an incident that does not exist (at the requested time). */
export class IncidentNotFoundError extends Error {
  constructor(readonly incidentId: string) {
    super(`Incident ${incidentId} not found`);
    this.name = 'IncidentNotFoundError';
  }
}

/**
 * The incident's read models are set aside because one of its events cannot be applied (a poison event): reads answer
 * 503 naming the event until an administrator retries it.
 */
export class IncidentParkedError extends Error {
  constructor(
    readonly incidentId: string,
    readonly eventId: string,
    readonly position: bigint,
  ) {
    super(`Incident ${incidentId} is parked: event ${eventId} at position ${position} cannot be applied`);
    this.name = 'IncidentParkedError';
  }
}

/** The incident's stream holds an event that cannot be folded, so it cannot be read or changed until it is repaired. */
export class IncidentUnreadableError extends Error {
  constructor(
    readonly incidentId: string,
    reason: string,
  ) {
    super(`Incident ${incidentId} cannot be read: ${reason}`);
    this.name = 'IncidentUnreadableError';
  }
}
