import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { holdDataDirLock } from '@app/incidents';

/**
 * The API marks DATA_DIR as in use while it runs, so `rebuild` can see it and refuse to drop read models under a
 * serving process.
 */
@Injectable()
export class ApiDataDirLock implements OnModuleInit, OnApplicationShutdown {
  private lock?: { release(): void };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.lock = holdDataDirLock(this.config.dataDir, 'api');
  }

  onApplicationShutdown(): void {
    this.lock?.release();
  }
}
