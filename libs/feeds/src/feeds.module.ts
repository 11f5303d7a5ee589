import {
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { APP_CONFIG, prepareDataDir, secureDatabaseFile, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { Metrics } from '@app/observability';
import { KafkaPublisher } from './kafka.publisher';
import { Relay, type RelayOptions } from './relay';
import { PostgresRelayState } from './postgres.relay-state';
import type { RelayStateStore } from './relay-state.port';
import { SqliteRelayCheckpoint } from './sqlite.relay-checkpoint';

/** The relay of this process, or null when it does not run one (no KAFKA_BROKERS, or RELAY=false). */
export const RELAY = Symbol('RELAY');
const RELAY_STATE = Symbol('RELAY_STATE');

type KafkaConfig = NonNullable<AppConfig['kafka']>;

/** Transactional id shared by every relay that publishes to these topics (see Relay: fencing). */
export function relayTransactionalId(kafka: KafkaConfig): string {
  return `${kafka.clientId}:relay:${kafka.topicEvents}:${kafka.topicStatusChanges}`;
}

/** The relay's checkpoint and lease belong to the topics it fills: new topic names start from the beginning. */
export function relayCheckpointName(kafka: KafkaConfig): string {
  return `kafka:${kafka.topicEvents}:${kafka.topicStatusChanges}`;
}

/**
 * Where the relay keeps its checkpoint and lease: in PostgreSQL beside the log when EVENT_STORE=postgres (shared by
 * every replica), otherwise in DATA_DIR/relay.db (shared by the relays of that directory).
 */
export async function openRelayState(config: AppConfig): Promise<RelayStateStore | null> {
  if (!config.kafka || !config.relay) return null;
  if (config.eventStore === 'postgres') {
    return PostgresRelayState.open({
      connectionString: config.databaseUrl!,
      schema: config.databaseSchema,
      name: relayCheckpointName(config.kafka),
    });
  }
  prepareDataDir(config.dataDir, { allowShared: config.dataDirAllowShared });
  const file = join(config.dataDir, 'relay.db');
  secureDatabaseFile(file);
  const state = new SqliteRelayCheckpoint(file, relayCheckpointName(config.kafka));
  secureDatabaseFile(file);
  return state;
}

export function createRelay(
  config: AppConfig,
  store: EventStore,
  state: RelayStateStore | null,
  options: Partial<RelayOptions> = {},
): Relay | null {
  const kafka = config.kafka;
  if (!kafka || !state) return null;
  const logger = new Logger('Relay');
  return new Relay(
    store,
    state,
    () =>
      new KafkaPublisher({
        brokers: kafka.brokers,
        clientId: kafka.clientId,
        transactionalId: relayTransactionalId(kafka),
        logger,
      }),
    { topics: { events: kafka.topicEvents, statusChanges: kafka.topicStatusChanges }, logger, ...options },
  );
}

/**
 * The Kafka relay inside a Nest process: started on bootstrap when KAFKA_BROKERS is set and RELAY is true, stopped
 * (lease released) before the event store closes. Its lag and position are Prometheus gauges collected on scrape.
 * The API registers its readiness check; the relay process serves it itself.
 */
@Module({
  providers: [
    { provide: RELAY_STATE, inject: [APP_CONFIG], useFactory: openRelayState },
    {
      provide: RELAY,
      inject: [APP_CONFIG, EVENT_STORE, RELAY_STATE],
      useFactory: (config: AppConfig, store: EventStore, state: RelayStateStore | null) =>
        createRelay(config, store, state),
    },
  ],
  exports: [RELAY],
})
export class FeedsModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(RELAY) private readonly relay: Relay | null,
    @Inject(RELAY_STATE) private readonly state: RelayStateStore | null,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const relay = this.relay;
    if (!relay) return;
    new Gauge({
      name: 'relay_lag_events',
      help: 'Events in the log that the Kafka broker has not acknowledged yet',
      registers: [this.metrics.registry],
      async collect() {
        try {
          this.set(Number(await relay.lag()));
        } catch {
          this.set(Number.NaN);
        }
      },
    });
    new Gauge({
      name: 'relay_checkpoint_position',
      help: 'Global position up to which the Kafka broker has acknowledged every event',
      registers: [this.metrics.registry],
      async collect() {
        this.set(Number(await relay.checkpoint()));
      },
    });
    new Gauge({
      name: 'relay_active',
      help: '1 when this process holds the relay lease and publishes, 0 when it stands by',
      registers: [this.metrics.registry],
      collect() {
        this.set(relay.currentRole === 'active' ? 1 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.relay?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay?.stop();
    await this.state?.close();
  }
}
