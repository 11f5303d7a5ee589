import { Injectable } from '@nestjs/common';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
  [key: string]: unknown;
}

/** Other parts of the process (the Kafka relay, say) register readiness checks here. */
@Injectable()
export class ReadinessChecks {
  private readonly checks = new Map<string, () => Promise<ReadinessCheck>>();

  register(name: string, check: () => Promise<ReadinessCheck>): void {
    this.checks.set(name, check);
  }

  async run(): Promise<Record<string, ReadinessCheck>> {
    const results: Record<string, ReadinessCheck> = {};
    for (const [name, check] of this.checks) {
      try {
        results[name] = await check();
      } catch {
        results[name] = { ok: false, detail: 'check failed' };
      }
    }
    return results;
  }
}
