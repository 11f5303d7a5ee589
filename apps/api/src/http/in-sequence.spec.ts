import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { inSequence } from './in-sequence';

/** Serves `handler` on a loopback port, sends one GET, and returns the answer's status and body. */
async function answerOf(handler: RequestHandler): Promise<{ status: number; body: string }> {
  const app = express();
  app.use(handler);
  app.use(((error, _request, response, _next) => {
    response.status(500).send(`outer error handler: ${(error as Error).message}`);
  }) as ErrorRequestHandler);
  app.use((_request, response) => {
    response.status(404).send('fell through');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return { status: response.status, body: await response.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const mark =
  (name: string): RequestHandler =>
  (request, _response, next) => {
    (request as unknown as { seen: string[] }).seen = [
      ...((request as unknown as { seen?: string[] }).seen ?? []),
      name,
    ];
    next();
  };

const seen: RequestHandler = (request, response) => {
  response.send((request as unknown as { seen?: string[] }).seen?.join(',') ?? '');
};

describe('inSequence', () => {
  it('runs the middlewares in order, then hands on to the next layer', async () => {
    expect(await answerOf(inSequence(mark('a'), mark('b'), seen))).toEqual({ status: 200, body: 'a,b' });
    expect(await answerOf(inSequence(mark('a'), mark('b')))).toEqual({ status: 404, body: 'fell through' });
  });

  it('skips error handlers while nothing failed, and skips plain middlewares once something has', async () => {
    const recover: ErrorRequestHandler = (error, _request, response, _next) => {
      response.status(400).send(`recovered from ${(error as Error).message}`);
    };
    const fail: RequestHandler = (_request, _response, next) => next(new Error('bad body'));
    expect(await answerOf(inSequence(mark('a'), recover, mark('b'), seen))).toEqual({ status: 200, body: 'a,b' });
    expect(await answerOf(inSequence(fail, mark('never'), recover, seen))).toEqual({
      status: 400,
      body: 'recovered from bad body',
    });
  });

  it('lets an error handler pass an error on, to the layers after it when none inside handles it', async () => {
    const passOn: ErrorRequestHandler = (error, _request, _response, next) => next(error);
    const fail: RequestHandler = (_request, _response, next) => next(new Error('not mine'));
    expect(await answerOf(inSequence(fail, passOn, mark('never')))).toEqual({
      status: 500,
      body: 'outer error handler: not mine',
    });
  });

  it('treats a throw or a rejected promise as an error', async () => {
    const throws: RequestHandler = () => {
      throw new Error('thrown');
    };
    const rejects: RequestHandler = async () => {
      throw new Error('rejected');
    };
    expect(await answerOf(inSequence(throws, seen))).toEqual({ status: 500, body: 'outer error handler: thrown' });
    expect(await answerOf(inSequence(rejects, seen))).toEqual({ status: 500, body: 'outer error handler: rejected' });
  });
});
