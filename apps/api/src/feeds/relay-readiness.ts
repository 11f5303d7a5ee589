import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RELAY, type Relay } from '@app/feeds';
import { ReadinessChecks } from '../health/readiness';

/** Adds the relay to /health/ready when this process runs one (its lag, its broker, whether it publishes). */
@Injectable()
export class RelayReadiness implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(RELAY) private readonly relay: Relay | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const relay = this.relay;
    if (!relay) return;
    // ReadinessChecks belongs to the application module; this module is imported by it, so look it up globally.
    const checks = this.moduleRef.get(ReadinessChecks, { strict: false });
    checks.register('relay', () => relay.health(this.config.readyMaxLag));
  }
}
