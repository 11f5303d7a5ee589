import type { LoggerService, LogLevel } from '@nestjs/common';
import { currentCorrelationId } from './request-context';

export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

/**
 * Structured logs: one JSON object per line, with the correlation id of the request being served. Messages that are
 * objects are merged into the line; strings become `msg`.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly level: Level = 'info',
    private readonly sink: LogSink = process.stdout,
  ) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  setLogLevels?(_levels: LogLevel[]): void {}

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (RANK[level] < RANK[this.level]) return;
    // Nest passes the logger context as the last string argument, and stack traces before it for errors.
    const strings = rest.filter((item): item is string => typeof item === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level };
    if (context) line.context = context;
    const correlationId = currentCorrelationId();
    if (correlationId) line.correlationId = correlationId;
    if (message instanceof Error) {
      line.msg = message.message;
      line.error = message.name;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(line, message);
    } else {
      line.msg = String(message);
    }
    this.sink.write(`${JSON.stringify(line)}\n`);
  }
}
