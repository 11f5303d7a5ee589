import { JsonLogger } from '@app/observability';

/** The application's structured log lines, kept in memory: pass `logger` to startTestApp. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = new JsonLogger('debug', { write: (line: string) => void this.lines.push(line) });

  get records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The audit line of the request with this correlation id (written when its response finished). */
  auditOf(correlationId: string | null): Record<string, unknown> | undefined {
    return this.records.find((record) => record.context === 'Audit' && record.correlationId === correlationId);
  }
}
