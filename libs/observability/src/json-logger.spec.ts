import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { JsonLogger } from './json-logger';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: string[] = [];
  const logger = new JsonLogger(level, { write: (line) => void lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, any>) };
}

describe('JSON logger (pino)', () => {
  it('writes one JSON object per line: time, level as a word, context, the message fields', () => {
    const { logger, records } = capture();
    logger.log({ msg: 'hello', count: 2, correlationId: 'corr-1' }, 'Greeter');
    expect(records()).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        level: 'info',
        context: 'Greeter',
        correlationId: 'corr-1',
        msg: 'hello',
        count: 2,
      },
    ]);
  });

  it('keeps a record’s own time and writes it once (the audit line carries one)', () => {
    const lines: string[] = [];
    new JsonLogger('info', { write: (line) => void lines.push(line) }).log({
      msg: 'request',
      time: '2026-01-01T00:00:00.000Z',
    });
    expect(lines[0].match(/"time"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]).time).toBe('2026-01-01T00:00:00.000Z');
  });

  it('serialises errors with their type, message and stack, given as the message, as err or as error', () => {
    const { logger, records } = capture();
    const failure = new TypeError('the disk went away');
    logger.error(failure, 'Errors');
    logger.error({ msg: 'request failed', err: failure });
    logger.error({ msg: 'request failed', error: new Error('outer', { cause: failure }) });
    const [asMessage, asErr, asError] = records();
    expect(asMessage).toMatchObject({ level: 'error', msg: 'the disk went away', err: { type: 'TypeError' } });
    expect(asMessage.err.stack).toMatch(/^TypeError: the disk went away\n\s+at /);
    expect(asErr.err).toMatchObject({ type: 'TypeError', message: 'the disk went away', stack: failure.stack });
    expect(asError.error.stack).toMatch(/outer/);
    expect(asError.error.cause).toMatchObject({ type: 'TypeError', message: 'the disk went away' });
  });

  it('redacts credentials wherever a record names them', () => {
    const { logger, records } = capture();
    logger.warn({ msg: 'odd request', authorization: 'Bearer abc.def.ghi', headers: { authorization: 'Bearer x' } });
    logger.warn({ msg: 'odd key', privateKey: '-----BEGIN PRIVATE KEY-----', token: 'abc.def.ghi' });
    const text = JSON.stringify(records());
    expect(text).not.toMatch(/abc\.def|Bearer|BEGIN PRIVATE/);
    expect(records()[0]).toMatchObject({ authorization: '[redacted]', headers: { authorization: '[redacted]' } });
  });

  it('drops lines below its level', () => {
    const { logger, records } = capture('warn');
    logger.log('info line');
    logger.debug('debug line');
    logger.warn('warn line');
    expect(records().map((record) => record.msg)).toEqual(['warn line']);
  });

  it('writes to stdout asynchronously and still delivers every line when the process exits at once', async () => {
    const script = [
      "const { JsonLogger } = require('./libs/observability/src/json-logger');",
      "const logger = new JsonLogger('info');",
      'for (let i = 0; i < 20000; i += 1) logger.log({ msg: "line", i });',
      'process.exit(0);',
    ].join('\n');
    const root = join(__dirname, '..', '..', '..');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-e', script],
        { cwd: root, maxBuffer: 64 * 1024 * 1024 },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(20000);
    expect(JSON.parse(lines[19999])).toMatchObject({ msg: 'line', i: 19999 });
  });
});
