import 'reflect-metadata';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { JsonLogger } from '@app/observability';
import { createApp } from './app.factory';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = new JsonLogger(config.logLevel);
  try {
    const app = await createApp(config, { logger });
    await app.listen(config.port, config.host);
    logger.log({
      msg: 'incident timeline service listening',
      url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
      eventStore: config.eventStore,
      dataDir: config.dataDir,
    });
  } catch (error) {
    logger.error({ msg: 'start failed', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

void bootstrap();
