import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { ConfigError } from '@app/config';
import { FeedsModule } from '@app/feeds';
import { FeedStreams, SSE_HEARTBEAT_MS } from './feed-streams';
import { FeedsController } from './feeds.controller';
import { RelayReadiness } from './relay-readiness';

const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * Heartbeat interval of the SSE feeds: 15 s, which stays under the idle timeouts of common proxies. SSE_HEARTBEAT_MS
 * overrides it (tests use a short one).
 */
export function heartbeatMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SSE_HEARTBEAT_MS;
  if (raw === undefined || raw === '') return DEFAULT_HEARTBEAT_MS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 10 || value > 600_000) {
    throw new ConfigError('SSE_HEARTBEAT_MS', `must be an integer between 10 and 600000, got "${raw}"`);
  }
  return value;
}

/** The SSE feeds over HTTP, and the relay's readiness check when this process runs the relay. */
@Module({
  imports: [FeedsModule, AuthModule],
  controllers: [FeedsController],
  providers: [FeedStreams, RelayReadiness, { provide: SSE_HEARTBEAT_MS, useFactory: () => heartbeatMs() }],
})
export class FeedsHttpModule {}
