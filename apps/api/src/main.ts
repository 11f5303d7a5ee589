import 'reflect-metadata';
import { TokenVerifier } from '@app/auth';
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
    logAuthentication(logger, config, app.get(TokenVerifier).issuerIds);
  } catch (error) {
    logger.error({ msg: 'start failed', err: error });
    process.exit(1);
  }
}

/** Says how to get in: the exact command for a local token, or a warning when authentication is off. */
function logAuthentication(logger: JsonLogger, config: AppConfig, issuers: string[]): void {
  if (!config.auth.enabled) {
    logger.warn({
      msg: 'AUTH=off: every request acts with every scope as urn:incident-timeline:auth-off; loopback only, never in production',
    });
    return;
  }
  logger.log({
    msg: 'bearer tokens required on /v1 (scopes incidents:read, incidents:write, incidents:admin)',
    issuers,
    ...(config.auth.localIssuer && {
      getToken: 'npm run -s token -- --scopes incidents:read,incidents:write --sub alice [--ttl 1h]',
    }),
    ...(config.auth.issuersFile !== undefined && { issuersFile: config.auth.issuersFile }),
    docs: 'docs/security.md',
  });
}

void bootstrap();
