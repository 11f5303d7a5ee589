import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, in a registry of its own so tests can create as many apps as they like. */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsAppended = new Counter({
    name: 'incident_events_appended_total',
    help: 'Events appended to the event store, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly appendConflicts = new Counter({
    name: 'incident_append_conflicts_total',
    help: 'Appends refused because the stream had moved on (optimistic concurrency)',
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly projectionLag = new Gauge({
    name: 'projection_lag_events',
    help: 'Events in the log not yet applied to the read models',
    registers: [this.registry],
  });

  readonly projectionPosition = new Gauge({
    name: 'projection_checkpoint_position',
    help: 'Global position the read models have applied',
    registers: [this.registry],
  });

  readonly eventsParked = new Counter({
    name: 'projection_events_parked_total',
    help: 'Events the projection could not apply; each parks its incident',
    registers: [this.registry],
  });

  readonly incidentsParked = new Gauge({
    name: 'projection_parked_incidents',
    help: 'Incidents set aside by the projection until retried',
    registers: [this.registry],
  });

  readonly feedSessions = new Gauge({
    name: 'sse_sessions_open',
    help: 'Open Server-Sent Events feed sessions',
    registers: [this.registry],
  });

  readonly feedSessionsEnded = new Counter({
    name: 'sse_sessions_ended_total',
    help: 'Feed sessions ended, by reason (client-closed, token-expired, token-refused, slow-reader, shutdown, unavailable)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly readYourWritesTimeouts = new Counter({
    name: 'read_your_writes_timeouts_total',
    help: 'Queries whose minPosition the read models had not reached within READ_MODEL_WAIT_MS (answered 503)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
