import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { httpJwksSource, JwksLoadError, usableKeys } from './jwks-source';

describe('JWKS sources', () => {
  it('keeps only public, asymmetric signing keys that have a kid', () => {
    const ec = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'ok' };
    const keys = usableKeys(
      {
        keys: [
          ec,
          { ...ec, kid: undefined },
          { ...ec, kid: 'private', d: 'secret' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
          { ...ec, kid: 'encryption', use: 'enc' },
          { kty: 'RSA', n: 'n', e: 'AQAB', kid: 'rsa', use: 'sig' },
        ],
      },
      'test',
    );
    expect(keys.keys.map((key) => key.kid)).toEqual(['ok', 'rsa']);
  });

  it.each([[null], [{}], [{ keys: 'x' }], [{ keys: Array.from({ length: 101 }, () => ({})) }]])(
    'refuses %j as a key set',
    (document) => {
      expect(() => usableKeys(document, 'test')).toThrow(JwksLoadError);
    },
  );

  describe('over HTTP', () => {
    let server: Server;
    let answer: (response: import('node:http').ServerResponse) => void;
    const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;

    beforeAll(async () => {
      server = createServer((_request, response) => answer(response));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    });

    afterAll(async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });

    it('loads a key set', async () => {
      answer = (response) =>
        response.end(JSON.stringify({ keys: [{ kty: 'EC', kid: 'k', crv: 'P-256', x: 'x', y: 'y' }] }));
      expect((await httpJwksSource(url()).load()).keys).toHaveLength(1);
    });

    it.each([
      ['an error status', (r: import('node:http').ServerResponse) => r.writeHead(500).end(), /answered HTTP 500/],
      ['a non-JSON body', (r: import('node:http').ServerResponse) => r.end('<html>'), /did not answer JSON/],
      [
        'a body over the size cap',
        (r: import('node:http').ServerResponse) => r.end('x'.repeat(2048)),
        /is over 1024 bytes/,
      ],
      [
        'a redirect',
        (r: import('node:http').ServerResponse) => r.writeHead(302, { location: 'https://elsewhere.test/' }).end(),
        /unreachable/,
      ],
    ])('refuses %s', async (_name, respond, message) => {
      answer = respond;
      await expect(httpJwksSource(url(), { maxBytes: 1024 }).load()).rejects.toThrow(message);
    });

    it('gives up after the timeout', async () => {
      answer = () => undefined;
      await expect(httpJwksSource(url(), { timeoutMs: 100 }).load()).rejects.toThrow(/no answer within 100 ms/);
    });
  });
});
