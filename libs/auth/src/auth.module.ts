import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, isLoopbackHost, type AppConfig } from '@app/config';
import { AnonymousRateLimit } from './anonymous-rate-limit';
import { AuditLog } from './audit-log';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { DocsGate } from './docs-gate';
import { EarlyAuthentication } from './early-authentication';
import { IssuerRegistryError, loadIssuerRegistryFile, type IssuerConfig } from './issuer-registry';
import { ensureLocalIssuer, LOCAL_ISSUER, localIssuerConfig } from './local-issuer';
import { PrincipalThrottlerGuard } from './principal-throttler.guard';
import { TokenVerifier } from './token-verifier';

const RATE_WINDOW_MS = 60_000;

/**
 * Builds the verifier from the configuration: the local issuer (its key pair created under DATA_DIR/keys on first
 * start) and the issuers of AUTH_ISSUERS_FILE. With AUTH=off there is nothing to trust and no key is made.
 */
export async function createTokenVerifier(config: AppConfig): Promise<TokenVerifier> {
  const logger = new Logger('Auth');
  // loadConfig refuses this already; a configuration built by hand must not get around it.
  if (!config.auth.enabled && !isLoopbackHost(config.host)) {
    throw new Error(`AUTH=off is accepted only on a loopback HOST, not ${config.host}`);
  }
  const issuers: IssuerConfig[] = [];
  if (config.auth.enabled && config.auth.localIssuer) {
    const { created, files } = await ensureLocalIssuer(config.dataDir);
    if (created) logger.log({ msg: 'created the local issuer key pair', dir: files.dir });
    issuers.push(localIssuerConfig(config.dataDir, config.auth.audience));
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
    { provide: TokenVerifier, useFactory: createTokenVerifier, inject: [APP_CONFIG] },
    Authenticator,
    AuditLog,
    DocsGate,
    EarlyAuthentication,
    AnonymousRateLimit,
    // Order matters: the principal must be known before the throttler counts it.
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
  ],
  exports: [TokenVerifier, Authenticator, AuditLog, DocsGate, EarlyAuthentication, AnonymousRateLimit],
})
export class AuthModule {}
