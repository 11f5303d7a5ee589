import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { Principal } from './principal';
import { SCOPES } from './scopes';
import { AuthenticationError, TokenVerifier } from './token-verifier';

/** Who acts when AUTH=off: a fixed principal with every scope, distinct in the record from any token's subject. */
export const AUTH_OFF_PRINCIPAL: Principal = {
  iss: 'urn:incident-timeline:auth-off',
  sub: 'local',
  scopes: new Set(SCOPES),
};

const BEARER = /^Bearer +(\S+)$/i;

/** Turns a request's Authorization header into a verified principal, or an AuthenticationError with its reason. */
@Injectable()
export class Authenticator {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
  ) {}

  get enabled(): boolean {
    return this.config.auth.enabled;
  }

  async authenticate(headers: IncomingHttpHeaders): Promise<Principal> {
    if (!this.config.auth.enabled) return AUTH_OFF_PRINCIPAL;
    const authorization = headers.authorization;
    if (authorization === undefined || authorization === '') throw new AuthenticationError('missing-token');
    const match = BEARER.exec(authorization);
    if (!match) throw new AuthenticationError('malformed-token');
    return this.verifier.verify(match[1]);
  }
}
