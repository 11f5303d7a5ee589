import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { readFile } from 'node:fs/promises';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, isLoopbackHost, type AppConfig } from '@app/config';
import { AuditLog } from './audit-log';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { DocsGate } from './docs-gate';
import { IssuerRegistryError, loadIssuerRegistryFile, type IssuerConfig } from './issuer-registry';
import { fileJwksSource, httpJwksSource, type JwksSource } from './jwks-source';
import { ensureLocalIssuer, LOCAL_ISSUER, localIssuerConfig } from './local-issuer';
import type { PostgresIssuerKeys } from './postgres.issuer-keys';
import { PrincipalThrottlerGuard } from './principal-throttler.guard';
import { TokenVerifier } from './token-verifier';

const RATE_WINDOW_MS = 60_000;

/**
 * Builds the verifier from the configuration: the local issuer (its key pair created under DATA_DIR/keys on first
 * start) and the issuers of AUTH_ISSUERS_FILE. With AUTH=off there is nothing to trust and no key is made.
 */
/**
 * With PostgreSQL (the shared state of replicas) the local issuer's public keys are published there and read from
 * there, so a token minted on one replica verifies on every other.
 */
export class SharedIssuerKeys implements OnApplicationShutdown {
  private opened?: Promise<PostgresIssuerKeys>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.eventStore === 'postgres' && this.config.databaseUrl !== undefined;
  }

  keys(): Promise<PostgresIssuerKeys> {
    this.opened ??= import('./postgres.issuer-keys').then(({ PostgresIssuerKeys }) =>
      PostgresIssuerKeys.open(this.config.databaseUrl!, this.config.databaseSchema),
    );
    return this.opened;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }
}

export async function createTokenVerifier(config: AppConfig, shared?: SharedIssuerKeys): Promise<TokenVerifier> {
  const logger = new Logger('Auth');
  // loadConfig refuses this already; a configuration built by hand must not get around it.
  if (!config.auth.enabled && !isLoopbackHost(config.host)) {
    throw new Error(`AUTH=off is accepted only on a loopback HOST, not ${config.host}`);
  }
  const issuers: IssuerConfig[] = [];
  const sources = new Map<string, JwksSource>();
  if (config.auth.enabled && config.auth.localIssuer) {
    const { created, files } = await ensureLocalIssuer(config.dataDir);
    if (created) logger.log({ msg: 'created the local issuer key pair', dir: files.dir });
    issuers.push(localIssuerConfig(config.dataDir, config.auth.audience));
    if (shared?.enabled) {
      const keys = await shared.keys();
      await keys.publish(LOCAL_ISSUER, JSON.parse(await readFile(files.jwks, 'utf8')) as JSONWebKeySet);
      sources.set(LOCAL_ISSUER, keys.source(LOCAL_ISSUER));
    }
  }
  if (config.auth.enabled && config.auth.issuersFile !== undefined) {
    const file = config.auth.issuersFile;
    const external = loadIssuerRegistryFile(file, config.auth.audience);
    if (issuers.length > 0 && external.some((issuer) => issuer.iss === LOCAL_ISSUER)) {
      throw new IssuerRegistryError(
        file,
        'iss',
        `${LOCAL_ISSUER} is the local issuer; set AUTH_LOCAL_ISSUER=false to list it`,
      );
    }
    issuers.push(...external);
  }
  return new TokenVerifier(issuers, {
    sourceFor: (issuer) =>
      sources.get(issuer.iss) ??
      ('url' in issuer.jwks ? httpJwksSource(issuer.jwks.url) : fileJwksSource(issuer.jwks.file)),
    onKeysUnavailable: (iss, error) => logger.warn({ msg: 'issuer keys unavailable', iss, reason: error.message }),
  });
}

/**
 * Authentication (a global guard reading `@Scopes()` / `@Public()`), the per-principal rate limit, the audit log and
 * the /docs gate. Import it once, in the HTTP application.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // The throttler must be named "default" for its 429 to carry a plain Retry-After header.
        throttlers: [{ name: 'default', ttl: RATE_WINDOW_MS, limit: Math.max(config.auth.rateLimitPerMinute, 1) }],
        skipIf: () => config.auth.rateLimitPerMinute === 0,
        errorMessage: 'Too many requests from this principal; retry after the number of seconds in Retry-After',
      }),
    }),
  ],
  providers: [
    SharedIssuerKeys,
    { provide: TokenVerifier, useFactory: createTokenVerifier, inject: [APP_CONFIG, SharedIssuerKeys] },
    Authenticator,
    AuditLog,
    DocsGate,
    // Order matters: the principal must be known before the throttler counts it.
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
  ],
  exports: [TokenVerifier, Authenticator, AuditLog, DocsGate],
})
export class AuthModule {}
