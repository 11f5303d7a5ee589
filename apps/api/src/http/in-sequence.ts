import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

type Handler = RequestHandler | ErrorRequestHandler;

/**
 * Several Express middlewares run as one: the same order and the same rules as if each had its own `app.use` (a
 * handler of four parameters only handles errors, `next(error)` skips to the next such handler, a throw or a rejected
 * promise is an error), but one layer of the router instead of one per middleware. Matching and dispatching a layer
 * cost more than most of these middlewares themselves, on every request.
 */
export function inSequence(...handlers: Handler[]): RequestHandler {
  return (request: Request, response: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      while (index < handlers.length) {
        const handler = handlers[index++];
        // As in Express, a falsy argument to next() is no error.
        if ((handler.length === 4) !== Boolean(error)) continue;
        let returned: unknown;
        try {
          returned = error
            ? (handler as ErrorRequestHandler)(error, request, response, next)
            : (handler as RequestHandler)(request, response, next);
        } catch (thrown) {
          next(thrown ?? new Error('A middleware threw nothing'));
          return;
        }
        if (returned instanceof Promise) {
          returned.catch((rejected: unknown) => next(rejected ?? new Error('A middleware rejected with nothing')));
        }
        return;
      }
      done(error);
    };
    next();
  };
}
