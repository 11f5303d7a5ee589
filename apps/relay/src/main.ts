import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { once } from 'node:events';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { RELAY, type Relay } from '@app/feeds';
import { JsonLogger, Metrics } from '@app/observability';
import { createHealthServer } from './health.server';
import { RelayModule } from './relay.module';

/** Without PORT, the relay listens beside an API on its default port 3000 rather than on it. */
const DEFAULT_RELAY_PORT = 3001;

/**
 * The Kafka relay as its own process (`npm run relay`, the `relay` service of docker-compose.yml): publishes the
 * store's log to Kafka and serves /health/live, /health/ready and /metrics on HOST:PORT. Any number may run; one
 * publishes at a time (see libs/feeds/src/relay.ts). SIGTERM or SIGINT stops it cleanly, releasing its lease.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
    if (!process.env.PORT) config.port = DEFAULT_RELAY_PORT;
    if (!config.kafka) throw new ConfigError('KAFKA_BROKERS', 'must be set: the relay has nowhere to publish');
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = new JsonLogger(config.logLevel);
  try {
    const app = await NestFactory.createApplicationContext(RelayModule.forRoot(config), {
      logger,
      abortOnError: false,
    });
    const relay = app.get<Relay>(RELAY);
    const server = createHealthServer(relay, app.get(Metrics), config.readyMaxLag);
    server.listen(config.port, config.host);
    await once(server, 'listening');
    const address = server.address();
    logger.log({
      msg: 'relay started',
      health: typeof address === 'object' && address ? `http://${config.host}:${address.port}/health/ready` : undefined,
      brokers: config.kafka?.brokers,
      topics: [config.kafka?.topicEvents, config.kafka?.topicStatusChanges],
      eventStore: config.eventStore,
      dataDir: config.dataDir,
    });
    const shutdown = async (signal: NodeJS.Signals) => {
      logger.log({ msg: 'relay stopping', signal });
      server.close();
      server.closeAllConnections();
      await app.close();
      process.exit(0);
    };
    process.once('SIGTERM', (signal) => void shutdown(signal));
    process.once('SIGINT', (signal) => void shutdown(signal));
  } catch (error) {
    logger.error({ msg: 'relay start failed', err: error });
    process.exit(1);
  }
}

void main();
