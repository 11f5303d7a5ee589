import { ServiceUnavailableException } from '@nestjs/common';

/**
 * A 503 the service expects in normal operation (the read models have not reached a position yet, the feed sessions
 * are full): the client is told to retry, a metric counts it, and it is not logged as an error.
 */
export class BusyException extends ServiceUnavailableException {}
