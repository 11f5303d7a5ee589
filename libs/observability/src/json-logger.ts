import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type Logger as Pino } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogSink {
  write(line: string): void;
}

/** Keys whose values never reach a log line, at the top level or one object down. */
const REDACTED = ['authorization', 'token', 'accessToken', 'password', 'privateKey', 'secret', 'cookie'];

/** An error (or anything thrown) as a plain object with its type, message, stack and cause. */
function serialiseError(value: unknown): unknown {
  return value instanceof Error ? pino.stdSerializers.errWithCause(value) : value;
}

/**
 * Structured logs through pino: one JSON object per line. Messages that are objects are merged into the line (the lines
 * about a request carry its `correlationId` that way); strings become `msg`; errors (as the message, or under `err` or
 * `error`) are written with their stack. Writes to stdout are asynchronous and flushed when the process exits.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(level: Level = 'info', sink?: LogSink) {
    this.pino = pino(
      {
        level,
        base: undefined,
        // The line keeps its own `time`, so a record that carries one (the audit line) is not written twice.
        timestamp: false,
        formatters: { level: (label) => ({ level: label }) },
        serializers: { err: serialiseError, error: serialiseError },
        redact: { paths: [...REDACTED, ...REDACTED.map((key) => `*.${key}`)], censor: '[redacted]' },
      },
      sink ?? pino.destination({ dest: 1, sync: false }),
    );
  }

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

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  setLogLevels?(_levels: LogLevel[]): void {}

  /** Writes out what is buffered (before a deliberate `process.exit`). */
  flush(): void {
    this.pino.flush();
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest passes the logger context as the last string argument, and a stack trace before it for errors.
    const strings = rest.filter((item): item is string => typeof item === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const line: Record<string, unknown> = { time: new Date().toISOString() };
    if (context) line.context = context;
    if (message instanceof Error) {
      line.msg = message.message;
      line.err = message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(line, message);
    } else {
      line.msg = String(message);
    }
    const thrown = rest.find((item): item is Error => item instanceof Error);
    if (thrown && line.err === undefined) line.err = thrown;
    this.pino[level](line);
  }
}
