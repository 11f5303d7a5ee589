import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_CACHE_MAX_AGE_MS,
  DEFAULT_MIN_REFETCH_INTERVAL_MS,
  loadIssuerRegistryFile,
  parseIssuerRegistry,
} from './issuer-registry';

const defaults = { audience: 'incident-timeline', baseDir: '/etc/incident-timeline' };
const parse = (document: unknown) => parseIssuerRegistry(document, 'issuers.yaml', defaults);
const issuer = (fields: Record<string, unknown> = {}) => ({
  iss: 'https://login.example.com/',
  jwksUri: 'https://login.example.com/.well-known/jwks.json',
  algorithms: ['RS256'],
  ...fields,
});

describe('issuer registry', () => {
  it('reads an issuer with its JWKS URL, audiences, algorithms and cache settings', () => {
    expect(
      parse({
        issuers: [
          issuer({
            audiences: ['api://incidents'],
            typ: 'at+jwt',
            cacheMaxAgeSeconds: 300,
            minRefetchIntervalSeconds: 10,
          }),
        ],
      }),
    ).toEqual([
      {
        iss: 'https://login.example.com/',
        jwks: { url: 'https://login.example.com/.well-known/jwks.json' },
        audiences: ['api://incidents'],
        algorithms: ['RS256'],
        typ: 'at+jwt',
        cacheMaxAgeMs: 300_000,
        minRefetchIntervalMs: 10_000,
      },
    ]);
  });

  it('defaults the audience to this service, the cache to 10 min and the refetch interval to 30 s', () => {
    expect(parse({ issuers: [issuer()] })[0]).toMatchObject({
      audiences: ['incident-timeline'],
      cacheMaxAgeMs: DEFAULT_CACHE_MAX_AGE_MS,
      minRefetchIntervalMs: DEFAULT_MIN_REFETCH_INTERVAL_MS,
    });
  });

  it('resolves a relative jwksFile against the registry file directory', () => {
    const [config] = parse({ issuers: [{ iss: 'partner', jwksFile: 'keys/partner.json', algorithms: ['ES256'] }] });
    expect(config.jwks).toEqual({ file: '/etc/incident-timeline/keys/partner.json' });
  });

  it.each([
    [{ issuers: 'nope' }, /issuers must be a list/],
    [{ issuers: [], extra: 1 }, /extra is not a known field/],
    [{ issuers: [issuer({ colour: 'red' })] }, /issuers\[0\]\.colour is not a known field/],
    [{ issuers: [issuer({ iss: '' })] }, /issuers\[0\]\.iss must be a non-empty string/],
    [{ issuers: [issuer(), issuer()] }, /issuers\[1\]\.iss repeats/],
    [{ issuers: [issuer({ jwksFile: 'x.json' })] }, /exactly one of jwksUri and jwksFile/],
    [{ issuers: [issuer({ jwksUri: undefined })] }, /exactly one of jwksUri and jwksFile/],
    [{ issuers: [issuer({ jwksUri: 'http://login.example.com/jwks' })] }, /must be an https URL/],
    [{ issuers: [issuer({ jwksUri: 'https://user:pw@login.example.com/jwks' })] }, /must not carry credentials/],
    [{ issuers: [issuer({ algorithms: [] })] }, /algorithms must be a non-empty list/],
    [{ issuers: [issuer({ algorithms: ['HS256'] })] }, /algorithms\[0\] must be one of .*got "HS256"/],
    [{ issuers: [issuer({ algorithms: ['RS256', 'none'] })] }, /algorithms\[1\] must be one of/],
    [{ issuers: [issuer({ audiences: [] })] }, /audiences must be a non-empty list/],
    [{ issuers: [issuer({ cacheMaxAgeSeconds: 0 })] }, /cacheMaxAgeSeconds must be a number of seconds above 0/],
    [{ issuers: [issuer({ minRefetchIntervalSeconds: '30' })] }, /minRefetchIntervalSeconds must be a number/],
  ])('refuses %j', (document, message) => {
    expect(() => parse(document)).toThrow(message);
  });

  it('allows plain http to a loopback JWKS only', () => {
    expect(parse({ issuers: [issuer({ jwksUri: 'http://127.0.0.1:8080/jwks' })] })[0].jwks).toEqual({
      url: 'http://127.0.0.1:8080/jwks',
    });
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'registry-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads YAML and JSON files', () => {
      const yaml = join(dir, 'issuers.yaml');
      writeFileSync(
        yaml,
        'issuers:\n  - iss: https://login.example.com/\n    jwksUri: https://login.example.com/jwks\n    algorithms: [RS256]\n',
      );
      const json = join(dir, 'issuers.json');
      writeFileSync(json, JSON.stringify({ issuers: [issuer()] }));
      expect(loadIssuerRegistryFile(yaml, 'aud')[0]).toMatchObject({
        iss: 'https://login.example.com/',
        audiences: ['aud'],
      });
      expect(loadIssuerRegistryFile(json, 'aud')[0]).toMatchObject({ iss: 'https://login.example.com/' });
    });

    it('names the file when it is missing or unreadable as JSON/YAML', () => {
      expect(() => loadIssuerRegistryFile(join(dir, 'missing.yaml'), 'aud')).toThrow(
        /missing\.yaml: file cannot be read \(ENOENT\)/,
      );
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{');
      expect(() => loadIssuerRegistryFile(broken, 'aud')).toThrow(/broken\.json: file is not valid JSON or YAML/);
    });
  });
});
