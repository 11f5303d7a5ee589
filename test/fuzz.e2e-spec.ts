import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import {
  CATEGORIES,
  CONFIDENCES,
  FACT_KINDS,
  LIMITS,
  RELATIONS,
  STATUSES,
  isDateOrInstant,
  isIncidentId,
  isRfc3339Instant,
  parseEdtf,
} from '@app/domain';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ApiClient, startTestApp, type TestApp } from '@app/testing';
import { readEventLog } from './support/event-log';
import { parseIfMatch } from '../apps/api/src/http/if-match';

/**
 * Black-box fuzz of the HTTP edge. Every command endpoint gets malformed bodies, headers and path ids; every query
 * endpoint gets malformed query strings. The rule guarded (SPEC §4): a refused request is a 4xx
 * application/problem+json with type, title, status, detail (and errors[] of {field, message} for a 400), never a
 * 5xx, and it appends nothing. Each generated request has exactly one fault, so the expected status is known.
 */

const BODY_LIMIT = 64 * 1024;
/** FUZZ_SCALE=10 runs ten times as many cases, for a longer hunt. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = { bodies: 80 * SCALE, headers: 40 * SCALE, paths: 30 * SCALE, queries: 40 * SCALE };
const SEED = 'fuzz-seed';
const TARGET = 'fuzz-target';
const FRESH = 'fuzz-fresh';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Every request of this run carries a correlation id with this prefix; the events it causes would carry it too. */
const RUN = `fuzz-${randomUUID().slice(0, 8)}`;
/** Keys that name members of Object.prototype: a JSON body may carry them as own properties. */
const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
];

// ---------------------------------------------------------------------------------------------------------------
// Requests and the refusal property

interface Reply {
  status: number;
  contentType: string;
  text: string;
}

interface HttpCase {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send no Authorization header (every other request carries a token with every scope). */
  anonymous?: boolean;
  /** The statuses this case may get; each one a refusal. */
  expected: readonly number[];
}

let app: TestApp;
let api: ApiClient;
let seedFactId: string;
let readOnlyToken: string;
let knownHead = 0;
let requestCount = 0;

async function send(request: HttpCase): Promise<Reply> {
  requestCount += 1;
  const response = await fetch(`${app.baseUrl}${request.path}`, {
    method: request.method,
    headers: {
      ...(!request.anonymous && { authorization: `Bearer ${app.adminToken}` }),
      ...request.headers,
      'x-correlation-id': `${RUN}-${requestCount}`,
    },
    body: request.body,
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** What is wrong with a reply that should be a refusal; empty when it is one. */
function refusalViolations(reply: Reply, expected: readonly number[]): string[] {
  const violations: string[] = [];
  const excerpt = reply.text.slice(0, 300);
  if (!expected.includes(reply.status))
    violations.push(`status ${reply.status}, expected ${expected.join(' or ')}: ${excerpt}`);
  if (!/^application\/problem\+json(;|$)/.test(reply.contentType))
    violations.push(`content-type "${reply.contentType}"`);
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(reply.text) as Record<string, unknown>;
  } catch {
    return [...violations, `body is not JSON: ${excerpt}`];
  }
  for (const member of ['type', 'title', 'detail']) {
    if (typeof problem[member] !== 'string' || problem[member] === '') violations.push(`no "${member}": ${excerpt}`);
  }
  if (problem.status !== reply.status) violations.push(`"status" member is ${String(problem.status)}`);
  if (reply.status === 400) {
    const errors = problem.errors;
    if (!Array.isArray(errors) || errors.length === 0) violations.push(`a 400 without errors[]: ${excerpt}`);
    else {
      for (const error of errors as Array<Record<string, unknown>>) {
        if (typeof error?.field !== 'string' || typeof error?.message !== 'string') {
          violations.push(`errors[] entry is not {field, message}: ${JSON.stringify(error)}`);
        }
      }
    }
  }
  return violations;
}

/**
 * Events appended since the last check that this suite could have caused. With the default private SQLite store every
 * event counts; with a store shared with other suites, only events in our streams or carrying our correlation ids.
 * The store's head position is read in-process (cheap, once a run); the log over HTTP only when the head moved.
 */
async function appendedSinceLastCheck(): Promise<string[]> {
  const head = Number(await app.app.get<EventStore>(EVENT_STORE).headPosition());
  if (head === knownHead) return [];
  const privateStore = (process.env.EVENT_STORE ?? 'sqlite') === 'sqlite';
  const ours = new Set([SEED, TARGET, FRESH].map((id) => `incident-${id}`));
  const appended = await readEventLog(api, knownHead);
  if (appended.length > 0) knownHead = appended[appended.length - 1].position;
  return appended
    .filter((e) => privateStore || ours.has(e.streamId) || String(e.correlationId).startsWith(RUN))
    .map((e) => `${e.type} at ${e.position} in ${e.streamId}`);
}

async function expectRefusedAndNothingAppended(request: HttpCase): Promise<void> {
  const reply = await send(request);
  const appended = await appendedSinceLastCheck();
  expect({ case: request.label, violations: refusalViolations(reply, request.expected), appended }).toEqual({
    case: request.label,
    violations: [],
    appended: [],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// JSON that JSON.stringify cannot write: verbatim fragments (1e400, deep nesting) and objects as ordered key lists
// (duplicate keys, "__proto__" as an own key).

class Raw {
  constructor(readonly json: string) {}
}

type Pairs = Array<[string, unknown]>;

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.json;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') return objectJson(Object.entries(value));
  return JSON.stringify(value) ?? 'null';
}

function objectJson(pairs: Pairs): string {
  return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${toJson(value)}`).join(',')}}`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const protoObject = fc
  .tuple(fc.constantFrom(...PROTOTYPE_KEYS), anyJson)
  .map(([key, value]) => new Raw(objectJson([[key, value]])));
/** Any JSON value whose type is not `type` (null included: no field accepts null). */
const notA = (type: 'string' | 'number' | 'array' | 'object') =>
  fc.oneof(
    anyJson.filter((value) => typeOf(value) !== type),
    type === 'object' ? fc.constant(null) : protoObject,
  );

// ---------------------------------------------------------------------------------------------------------------
// Invalid values, field by field. Oracles are the spec's rules; filters keep only values that break them.

const FUTURE_DATE = '2999-01-01';
const FUTURE_INSTANT = '2999-01-01T00:00:00Z';
const longText = (max: number) =>
  fc.oneof(
    fc.string({ minLength: max + 1, maxLength: max + 40 }),
    fc.integer({ min: max + 1, max: 60_000 }).map((n) => 'x'.repeat(n)),
  );
const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

function isHttpUrl(value: string): boolean {
  if (value.length > LIMITS.urlLength) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

const keep = (values: string[], invalid: (value: string) => boolean) => values.filter(invalid);

const invalid = {
  slug: () =>
    fc.oneof(
      notA('string'),
      anyText.filter((s) => !isIncidentId(s)),
      fc.constantFrom(
        ...keep(
          ['', 'ab', 'A-bc', '-abc', 'abc-', 'a'.repeat(65), 'storm 0558', 'storm_0558', 'café-1'],
          (s) => !isIncidentId(s),
        ),
      ),
    ),
  text: (min: 0 | 1, max: number) => fc.oneof(notA('string'), longText(max), ...(min === 1 ? [fc.constant('')] : [])),
  enumeration: (values: readonly string[]) =>
    fc.oneof(
      notA('string'),
      anyText.filter((s) => !values.includes(s)),
      fc.constantFrom(...values.map((v) => v.toUpperCase())),
    ),
  edtf: () =>
    fc.oneof(
      notA('string'),
      anyText.filter((s) => !parseEdtf(s).ok),
      fc.constantFrom(
        ...keep(
          ['2023-13', '2023-02-30', '2023-00-10', '2023/', '2023-05/2023-04', 'yesterday', '16/06/2023'],
          (s) => !parseEdtf(s).ok,
        ),
      ),
    ),
  instant: () =>
    fc.oneof(
      notA('string'),
      anyText.filter((s) => !isRfc3339Instant(s)),
      fc.constantFrom(
        FUTURE_INSTANT,
        ...keep(
          ['2023-06-16', '2023-06-16T00:00:00', '2023-02-30T00:00:00Z', '2023-06-16T24:00:01Z'],
          (s) => !isRfc3339Instant(s),
        ),
      ),
    ),
  dateOrInstant: () =>
    fc.oneof(
      notA('string'),
      anyText.filter((s) => !isDateOrInstant(s)),
      fc.constantFrom(
        FUTURE_DATE,
        FUTURE_INSTANT,
        ...keep(['2023-06', '2023-02-30', '20230616'], (s) => !isDateOrInstant(s)),
      ),
    ),
  names: (maxItems: number) => {
    const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim().length > 0);
    const badName = fc.oneof(notA('string'), fc.constant(''), longText(LIMITS.nameLength));
    return fc.oneof(
      notA('array'),
      fc.array(name, { minLength: maxItems + 1, maxLength: maxItems + 3 }),
      fc
        .tuple(fc.array(name, { maxLength: 3 }), badName, fc.array(name, { maxLength: 3 }))
        .map(([before, bad, after]) => [...before, bad, ...after]),
    );
  },
  count: (integer: boolean) =>
    fc.oneof(
      notA('number'),
      fc.double({ noNaN: true, noDefaultInfinity: true, max: -Number.MIN_VALUE }),
      fc.constantFrom(new Raw('1e400'), new Raw('-1e400')),
      ...(integer
        ? [
            fc.double({ min: 0, max: 1e9, noNaN: true }).filter((n) => !Number.isInteger(n)),
            fc.constantFrom(2 ** 53, 1e300),
          ]
        : []),
    ),
  sources: () => {
    const url = fc.constantFrom('https://example.org/report', 'http://example.com/a?b=c');
    const badUrl = fc.oneof(
      notA('string'),
      anyText.filter((s) => !isHttpUrl(s)),
      fc.constantFrom(
        'ftp://example.org/x',
        'javascript:alert(1)',
        'http://',
        '//example.org/x',
        'file:///etc/passwd',
        `https://example.org/${'a'.repeat(LIMITS.urlLength)}`,
      ),
    );
    const unknownKey = fc.oneof(
      fc.constantFrom(...PROTOTYPE_KEYS),
      fc.string().filter((k) => !['url', 'title', 'publisher', 'publishedAt'].includes(k)),
    );
    const badSource = fc.oneof(
      notA('object'),
      fc.constant({}),
      badUrl.map((u) => new Raw(objectJson([['url', u]]))),
      fc.tuple(url, unknownKey, anyJson).map(
        ([u, k, v]) =>
          new Raw(
            objectJson([
              ['url', u],
              [k, v],
            ]),
          ),
      ),
      fc.tuple(url, invalid.text(1, LIMITS.nameLength * 2)).map(
        ([u, t]) =>
          new Raw(
            objectJson([
              ['url', u],
              ['title', t],
            ]),
          ),
      ),
      fc.tuple(url, invalid.text(1, LIMITS.nameLength)).map(
        ([u, p]) =>
          new Raw(
            objectJson([
              ['url', u],
              ['publisher', p],
            ]),
          ),
      ),
      fc.tuple(url, invalid.dateOrInstant()).map(
        ([u, d]) =>
          new Raw(
            objectJson([
              ['url', u],
              ['publishedAt', d],
            ]),
          ),
      ),
    );
    const source = url.map((u) => ({ url: u }));
    return fc.oneof(
      notA('array'),
      fc.array(source, { minLength: LIMITS.sourcesPerFact + 1, maxLength: LIMITS.sourcesPerFact + 3 }),
      fc
        .tuple(fc.array(source, { maxLength: 2 }), badSource, fc.array(source, { maxLength: 2 }))
        .map(([before, bad, after]) => [...before, bad, ...after]),
    );
  },
};

type Invalid = fc.Arbitrary<unknown>;

// ---------------------------------------------------------------------------------------------------------------
// The command endpoints: a body that is accepted as it is (the last test proves it), and what breaks each field.

interface Endpoint {
  name: string;
  method: 'POST' | 'PATCH' | 'PUT';
  path(id: string, factId: string): string;
  pathIds: Array<'id' | 'factId'>;
  valid(): Record<string, unknown>;
  required: string[];
  fields: Record<string, () => Invalid>;
  success: number;
}

const text = (min: 0 | 1, max: number) => () => invalid.text(min, max);
const oneOf = (values: readonly string[]) => () => invalid.enumeration(values);
const names = (max: number) => () => invalid.names(max);

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /v1/incidents',
    method: 'POST',
    path: () => '/v1/incidents',
    pathIds: [],
    valid: () => ({ id: FRESH, title: 'Fresh incident', category: 'other' }),
    required: ['id', 'title', 'category'],
    fields: {
      id: invalid.slug,
      title: text(1, LIMITS.titleLength),
      category: oneOf(CATEGORIES),
      summary: text(0, LIMITS.incidentSummaryLength),
      victims: names(LIMITS.victims),
      threatActors: names(LIMITS.threatActors),
      status: oneOf(STATUSES),
      effectiveAt: invalid.dateOrInstant,
    },
    success: 201,
  },
  {
    name: 'PATCH /v1/incidents/{id}',
    method: 'PATCH',
    path: (id) => `/v1/incidents/${id}`,
    pathIds: ['id'],
    valid: () => ({ title: 'Revised title' }),
    required: [],
    fields: {
      title: text(1, LIMITS.titleLength),
      category: oneOf(CATEGORIES),
      summary: text(0, LIMITS.incidentSummaryLength),
      victims: names(LIMITS.victims),
      threatActors: names(LIMITS.threatActors),
    },
    success: 200,
  },
  {
    name: 'POST /v1/incidents/{id}/facts',
    method: 'POST',
    path: (id) => `/v1/incidents/${id}/facts`,
    pathIds: ['id'],
    valid: () => ({ kind: 'notification', occurredAt: '2023-06-16', summary: 'A party was notified.' }),
    required: ['kind', 'occurredAt', 'summary'],
    fields: {
      kind: oneOf(FACT_KINDS),
      occurredAt: invalid.edtf,
      summary: text(1, LIMITS.factSummaryLength),
      confidence: oneOf(CONFIDENCES),
      sources: invalid.sources,
      assertedAt: invalid.dateOrInstant,
      actors: names(LIMITS.actorsPerFact),
    },
    success: 201,
  },
  {
    name: 'PATCH /v1/incidents/{id}/facts/{factId}',
    method: 'PATCH',
    path: (id, factId) => `/v1/incidents/${id}/facts/${factId}`,
    pathIds: ['id', 'factId'],
    valid: () => ({ confidence: 'disputed', reason: 'The vendor updated its analysis.' }),
    required: ['reason'],
    fields: {
      occurredAt: invalid.edtf,
      summary: text(1, LIMITS.factSummaryLength),
      confidence: oneOf(CONFIDENCES),
      actors: names(LIMITS.actorsPerFact),
      sources: invalid.sources,
      assertedAt: invalid.dateOrInstant,
      reason: text(1, LIMITS.reasonLength),
    },
    success: 200,
  },
  {
    name: 'POST /v1/incidents/{id}/facts/{factId}/retraction',
    method: 'POST',
    path: (id, factId) => `/v1/incidents/${id}/facts/${factId}/retraction`,
    pathIds: ['id', 'factId'],
    valid: () => ({ reason: 'Recorded against the wrong incident.' }),
    required: ['reason'],
    fields: { reason: text(1, LIMITS.reasonLength), assertedAt: invalid.dateOrInstant },
    success: 200,
  },
  {
    name: 'POST /v1/incidents/{id}/status',
    method: 'POST',
    path: (id) => `/v1/incidents/${id}/status`,
    pathIds: ['id'],
    valid: () => ({ status: 'investigating' }),
    required: ['status'],
    fields: { status: oneOf(STATUSES), effectiveAt: invalid.dateOrInstant, reason: text(1, LIMITS.reasonLength) },
    success: 200,
  },
  {
    name: 'PUT /v1/incidents/{id}/impact',
    method: 'PUT',
    path: (id) => `/v1/incidents/${id}/impact`,
    pathIds: ['id'],
    valid: () => ({ lossUsd: 1000, records: 10, organisations: 2 }),
    required: [],
    fields: {
      lossUsd: () => invalid.count(false),
      records: () => invalid.count(true),
      organisations: () => invalid.count(true),
    },
    success: 200,
  },
  {
    name: 'POST /v1/incidents/{id}/links',
    method: 'POST',
    path: (id) => `/v1/incidents/${id}/links`,
    pathIds: ['id'],
    valid: () => ({ incidentId: TARGET, relation: 'same-actor' }),
    required: ['incidentId', 'relation'],
    fields: { incidentId: invalid.slug, relation: oneOf(RELATIONS) },
    success: 201,
  },
];

const JSON_HEADERS = { 'content-type': 'application/json' };

function commandCase(
  endpoint: Endpoint,
  label: string,
  body: Buffer | undefined,
  extra: Partial<HttpCase> = {},
): HttpCase {
  return {
    label: `${endpoint.name}: ${label}`,
    method: endpoint.method,
    path: endpoint.path(SEED, seedFactId),
    headers: JSON_HEADERS,
    body,
    expected: body !== undefined && body.length > BODY_LIMIT ? [413] : [400],
    ...extra,
  };
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// Malformed bodies

function malformedBodies(endpoint: Endpoint): fc.Arbitrary<HttpCase> {
  const valid = (): Pairs => Object.entries(endpoint.valid());
  const fieldNames = Object.keys(endpoint.fields);
  const withField = (name: string, value: unknown): Pairs => [
    ...valid().filter(([key]) => key !== name),
    [name, value],
  ];
  const build = (label: string, json: string) => commandCase(endpoint, label, utf8(json));

  const notAnObject = fc
    .oneof(
      anyJson.filter((v) => typeOf(v) !== 'object'),
      fc.constant(null),
    )
    .map((v) => build(`a ${typeOf(v)} as the body`, JSON.stringify(v)));
  const wrongField = fc
    .constantFrom(...fieldNames)
    .chain((name) => endpoint.fields[name]().map((value) => ({ name, value })))
    .map(({ name, value }) => build(`a bad ${name}`, objectJson(withField(name, value))));
  const unknownField = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...PROTOTYPE_KEYS),
        fc.string().filter((key) => !Object.hasOwn(endpoint.fields, key)),
      ),
      anyJson,
      fc.nat(),
    )
    .map(([key, value, at]) => {
      const pairs = valid();
      pairs.splice(at % (pairs.length + 1), 0, [key, value]);
      return build(`an unknown field ${JSON.stringify(key)}`, objectJson(pairs));
    });
  const deeplyNested = fc
    .tuple(fc.constantFrom(...fieldNames), fc.boolean(), fc.integer({ min: 2, max: 30_000 }))
    .map(([name, arrays, depth]) => {
      const nested = arrays
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(Math.ceil(depth / 3)) + '1' + '}'.repeat(Math.ceil(depth / 3));
      return build(`${name} nested ${depth} deep`, objectJson(withField(name, new Raw(nested))));
    });
  const hugeString = fc
    .tuple(fc.constantFrom(...fieldNames), fc.integer({ min: LIMITS.incidentSummaryLength + 1, max: 60_000 }))
    .map(([name, length]) => build(`a ${length}-character ${name}`, objectJson(withField(name, 'x'.repeat(length)))));
  const missingRequired =
    endpoint.required.length === 0
      ? fc.constant(build('an empty object', '{}'))
      : fc
          .constantFrom(...endpoint.required)
          .map((name) => build(`no ${name}`, objectJson(valid().filter(([key]) => key !== name))));
  const garbage = fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 200 }).map(utf8),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    )
    .filter((bytes) => {
      try {
        return typeOf(JSON.parse(bytes.toString('utf8'))) !== 'object';
      } catch {
        return true;
      }
    })
    .map((bytes) => commandCase(endpoint, `${bytes.length} bytes of garbage`, bytes));
  const truncated = fc.nat().map((at) => {
    const json = objectJson(valid());
    const cut = at % json.length;
    return build(`JSON cut after ${cut} characters`, json.slice(0, cut));
  });
  const invalidUtf8 = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          [0xff],
          [0xfe],
          [0xc3],
          [0x80],
          [0xc0, 0xaf],
          [0xed, 0xa0, 0x80],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80],
        ),
        fc
          .array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 4 })
          .filter((bytes) => !isUtf8(Buffer.from(bytes))),
      ),
      fc.nat(),
    )
    .map(([bad, at]) => {
      const json = objectJson(valid());
      // Inside the last string value (free text for most endpoints), or the first key when no value is a string.
      const quote = json.lastIndexOf(':"') >= 0 ? json.lastIndexOf(':"') + 2 : 2;
      const end = json.indexOf('"', quote);
      const cut = quote + (at % (end - quote + 1));
      const bytes = Buffer.concat([utf8(json.slice(0, cut)), Buffer.from(bad), utf8(json.slice(cut))]);
      return commandCase(endpoint, `invalid UTF-8 ${Buffer.from(bad).toString('hex')} at byte ${cut}`, bytes);
    });
  const oversized = fc
    .tuple(fc.integer({ min: BODY_LIMIT + 1, max: 4 * BODY_LIMIT }), fc.boolean())
    .map(([size, wellFormed]) => {
      const start = objectJson(valid()).slice(0, -1) + ',"padding":"';
      const json = wellFormed ? start + 'x'.repeat(Math.max(0, size - start.length - 2)) + '"}' : 'x'.repeat(size);
      return build(`a ${json.length}-byte body`, json);
    });

  return fc.oneof(
    notAnObject,
    { arbitrary: wrongField, weight: 4 },
    { arbitrary: unknownField, weight: 2 },
    deeplyNested,
    hugeString,
    missingRequired,
    garbage,
    truncated,
    invalidUtf8,
    oversized,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed headers, with a body that is valid for the endpoint

const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });
const token = fc.stringMatching(/^[a-z0-9][a-z0-9.+-]{0,15}$/);

const badContentType = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/jsonp',
    'application/json-patch+json',
    'application/problem+json',
    'application',
    '*/*',
    'application/*',
  ),
  fc
    .tuple(token, token)
    .map(([type, subtype]) => `${type}/${subtype}`)
    .filter((value) => value !== 'application/json'),
  fc
    .constantFrom(
      'latin1',
      'iso-8859-1',
      'us-ascii',
      'windows-1252',
      'utf-7',
      'utf-16',
      'utf-16le',
      'utf-32',
      'koi8-r',
      'utf8',
      'x-unknown',
    )
    .map((charset) => `application/json; charset=${charset}`),
);

/**
 * If-Match values that cannot match any incident here: malformed ones (400), and well-formed ones that name no version
 * these incidents reach (412: weak tags, non-numeric or huge tags). `*` and small strong versions would match.
 */
const badIfMatch = fc
  .oneof(
    headerText,
    fc.constantFrom('W/"1"', 'W/"0"', '"-1"', '"1.0"', '"0x1"', '1', '"998", "999"', '"1', "'1'", '""', 'W/1'),
    fc.bigInt({ min: 10n ** 9n, max: 10n ** 30n }).map((n) => `"${n}"`),
    fc.integer({ min: 1000, max: 999_999_999 }).map((n) => `"${n}"`),
  )
  .filter((value) => {
    const parsed = parseIfMatch(value);
    if (parsed === undefined) return true;
    return !parsed.any && !parsed.tags.some((tag) => !tag.weak && /^\d{1,3}$/.test(tag.opaque));
  });

const badIdempotencyKey = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 256, max: 4000 }).map((n) => 'k'.repeat(n)),
  fc.tuple(headerText, fc.constantFrom(' ', '\t'), headerText).map(([a, gap, b]) => `k${a}${gap}${b}k`),
  fc.string({
    unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 20,
  }),
);

/** A missing, malformed, forged or under-scoped bearer token (the last is a 403, the others 401). */
function badAuthorization(): fc.Arbitrary<{ label: string; value: string | undefined }> {
  const base64url = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const [header, payload] = app.adminToken.split('.');
  const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
  const tampered = `${header}.${base64url({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })}.${app.adminToken.split('.')[2]}`;
  return fc.oneof(
    fc.constant({ label: 'no Authorization', value: undefined }),
    fc
      .constantFrom(
        '',
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        'Bearer a.b.c',
        `Bearer ${unsigned}`,
        `Bearer ${tampered}`,
      )
      .map((value) => ({ label: `Authorization ${JSON.stringify(value.slice(0, 30))}`, value })),
    headerText.map((value) => ({ label: `Authorization ${JSON.stringify(value)}`, value })),
    headerText.map((value) => ({ label: `Authorization Bearer ${JSON.stringify(value)}`, value: `Bearer ${value}` })),
    fc.constant({ label: 'a token with only incidents:read', value: `Bearer ${readOnlyToken}` }),
  );
}

function malformedHeaders(endpoint: Endpoint): fc.Arbitrary<HttpCase> {
  const body = utf8(JSON.stringify(endpoint.valid()));
  const withHeaders = (label: string, headers: Record<string, string>, expected: number[]) =>
    commandCase(endpoint, label, body, { headers, expected });
  return fc.oneof(
    badContentType.map((type) =>
      withHeaders(`Content-Type ${JSON.stringify(type)}`, type === undefined ? {} : { 'content-type': type }, [415]),
    ),
    badIfMatch.map((value) =>
      withHeaders(`If-Match ${JSON.stringify(value.slice(0, 40))}`, { ...JSON_HEADERS, 'if-match': value }, [
        parseIfMatch(value) === undefined ? 400 : 412,
      ]),
    ),
    badIdempotencyKey.map((value) =>
      withHeaders(
        `Idempotency-Key ${JSON.stringify(value.slice(0, 40))}`,
        { ...JSON_HEADERS, 'idempotency-key': value },
        [400],
      ),
    ),
    badAuthorization().map(({ label, value }) =>
      value === undefined
        ? { ...withHeaders(label, JSON_HEADERS, [401]), anonymous: true }
        : withHeaders(label, { ...JSON_HEADERS, authorization: value }, [
            value === `Bearer ${readOnlyToken}` ? 403 : 401,
          ]),
    ),
    fc
      .constantFrom('gzip', 'deflate', 'br', 'compress', 'x-unknown', 'gzip, gzip')
      .map((encoding) =>
        withHeaders(
          `Content-Encoding ${encoding} on a plain body`,
          { ...JSON_HEADERS, 'content-encoding': encoding },
          [400, 415],
        ),
      ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed path ids

const percentJunk = fc.oneof(
  fc.constantFrom(
    '%',
    '%Z',
    '%ZZ',
    '%E0%A4%A',
    '%00',
    '%2F',
    '%C0%AF',
    '%FF%FE',
    '%25',
    '%0A',
    '%20',
    '..',
    '.',
    '%2e%2e',
  ),
  fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 })
    .map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('')),
);
const veryLong = fc.integer({ min: 65, max: 8000 }).map((n) => 'a'.repeat(n));
const encoded = (arbitrary: fc.Arbitrary<string>) => arbitrary.map(encodeURIComponent);

const badIncidentSegment = fc.oneof(
  encoded(fc.string({ unit: 'grapheme', maxLength: 70 }).filter((s) => !isIncidentId(s))),
  percentJunk,
  veryLong,
  fc.constant('no-such-incident'),
);
const badFactSegment = fc.oneof(
  encoded(fc.string({ unit: 'grapheme', maxLength: 70 }).filter((s) => !UUID.test(s))),
  fc.uuid(),
  fc.uuid().map((id) => `${id}x`),
  fc.uuid().map((id) => `{${id}}`),
  percentJunk,
  veryLong,
);

function malformedPaths(endpoint: Endpoint): fc.Arbitrary<HttpCase> {
  const body = utf8(JSON.stringify(endpoint.valid()));
  return fc
    .constantFrom(...endpoint.pathIds)
    .chain((which) => (which === 'id' ? badIncidentSegment : badFactSegment).map((segment) => ({ which, segment })))
    .filter(({ which, segment }) => which === 'id' || !safeDecode(segment)?.toLowerCase().includes(seedFactId))
    .map(({ which, segment }) => ({
      label: `${endpoint.name}: ${which} "${segment.slice(0, 60)}"${segment.length > 60 ? ` (${segment.length} chars)` : ''}`,
      method: endpoint.method,
      path: which === 'id' ? endpoint.path(segment, seedFactId) : endpoint.path(SEED, segment),
      headers: JSON_HEADERS,
      body,
      expected: [400, 404],
    }));
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed query strings

interface QueryEndpoint {
  name: string;
  path(): string;
  params: Record<string, fc.Arbitrary<string>>;
}

const anyQueryText = fc.string({ unit: 'grapheme', maxLength: 30 });
const query = {
  enumeration: (values: readonly string[]) => anyQueryText.filter((s) => !values.includes(s)),
  pageLimit: fc
    .oneof(
      anyQueryText,
      fc.integer({ min: -1000, max: 0 }).map(String),
      fc.integer({ min: 201, max: 1e9 }).map(String),
      fc.double().map(String),
    )
    .filter((s) => {
      const n = Number(s);
      return !(Number.isInteger(n) && n >= 1 && n <= LIMITS.pageSize);
    }),
  position: fc.oneof(
    anyQueryText.filter((s) => !/^\d{1,15}$/.test(s)),
    fc.constantFrom('-1', '1.5', '1e3', '9'.repeat(16), ' 1', '0x10'),
  ),
  instant: fc.oneof(
    anyQueryText.filter((s) => !isRfc3339Instant(s)),
    fc.constantFrom('', '2023', '2023-06-16', '2023-02-30T00:00:00Z'),
  ),
  dateOrInstant: fc.oneof(
    anyQueryText.filter((s) => !isDateOrInstant(s)),
    fc.constantFrom('', '2023', '2023-06', '2023-13-01'),
  ),
  cursor: fc.oneof(
    anyQueryText.filter((s) => !/^[A-Za-z0-9_-]{1,512}$/.test(s)),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    fc.constant('A'.repeat(513)),
  ),
  historyAfter: fc.oneof(anyQueryText, fc.integer({ min: -1000, max: -2 }).map(String)).filter((s) => {
    const n = Number(s);
    return !(Number.isInteger(n) && n >= -1);
  }),
};
const pointInTime = {
  asOf: query.dateOrInstant,
  knownAt: query.dateOrInstant,
  validAt: query.dateOrInstant,
  minPosition: query.position,
};

const QUERY_ENDPOINTS: QueryEndpoint[] = [
  {
    name: 'GET /v1/incidents',
    path: () => '/v1/incidents',
    params: {
      ...pointInTime,
      status: query.enumeration(STATUSES),
      category: query.enumeration(CATEGORIES),
      q: fc.integer({ min: 201, max: 2000 }).map((n) => 'q'.repeat(n)),
      limit: query.pageLimit,
      cursor: query.cursor,
    },
  },
  { name: 'GET /v1/incidents/{id}', path: () => `/v1/incidents/${SEED}`, params: pointInTime },
  {
    name: 'GET /v1/incidents/{id}/timeline',
    path: () => `/v1/incidents/${SEED}/timeline`,
    params: { ...pointInTime, includeRetracted: query.enumeration(['true', 'false']) },
  },
  {
    name: 'GET /v1/incidents/{id}/history',
    path: () => `/v1/incidents/${SEED}/history`,
    params: { after: query.historyAfter, limit: query.pageLimit },
  },
  {
    name: 'GET /v1/incidents/{id}/status-history',
    path: () => `/v1/incidents/${SEED}/status-history`,
    params: { minPosition: query.position },
  },
  { name: 'GET /v1/events', path: () => '/v1/events', params: { after: query.position, limit: query.pageLimit } },
];

function malformedQueries(endpoint: QueryEndpoint): fc.Arbitrary<HttpCase> {
  const known = Object.keys(endpoint.params);
  const pair = (key: string, value: string) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  const asCase = (label: string, queryString: string): HttpCase => ({
    label: `${endpoint.name}: ${label}`,
    method: 'GET',
    path: `${endpoint.path()}?${queryString}`,
    headers: {},
    expected: [400],
  });
  return fc.oneof(
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(...PROTOTYPE_KEYS),
          anyQueryText.filter((k) => !known.includes(k)),
        ),
        anyQueryText,
      )
      .map(([key, value]) => asCase(`unknown parameter ${JSON.stringify(key)}`, pair(key, value))),
    {
      arbitrary: fc
        .constantFrom(...known)
        .chain((key) => endpoint.params[key].map((value) => ({ key, value })))
        .map(({ key, value }) => asCase(`${key}=${JSON.stringify(value.slice(0, 60))}`, pair(key, value))),
      weight: 3,
    },
    fc
      .tuple(fc.constantFrom(...known), anyQueryText, anyQueryText)
      .map(([key, a, b]) => asCase(`${key} given twice`, `${pair(key, a)}&${pair(key, b)}`)),
  );
}

// ---------------------------------------------------------------------------------------------------------------

/** Writes bytes to the server as they are: for what fetch refuses to send (control characters in a header). */
function rawRequest(head: string, body = ''): Promise<string> {
  const { port } = new URL(app.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(Buffer.from(head + body, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

describe('fuzzing the HTTP edge (e2e)', () => {
  beforeAll(async () => {
    app = await startTestApp();
    api = new ApiClient(app.baseUrl, app.adminToken);
    readOnlyToken = await app.token(['incidents:read'], 'fuzz-reader');
    const headers = { headers: { 'x-correlation-id': `${RUN}-seed` } };
    expect((await api.post('/v1/incidents', { id: SEED, title: 'Fuzz seed', category: 'other' }, headers)).status).toBe(
      201,
    );
    expect(
      (await api.post('/v1/incidents', { id: TARGET, title: 'Fuzz target', category: 'other' }, headers)).status,
    ).toBe(201);
    const fact = await api.post(
      `/v1/incidents/${SEED}/facts`,
      { kind: 'other', occurredAt: '2023-06', summary: 'A seeded fact.' },
      headers,
    );
    expect(fact.status).toBe(201);
    seedFactId = fact.body.factId;
    knownHead = fact.body.position;
  });

  afterAll(async () => {
    await app?.close();
  });

  describe.each(ENDPOINTS)('$name', (endpoint) => {
    it('refuses malformed bodies with a 400 or 413 problem and appends nothing', async () => {
      await fc.assert(fc.asyncProperty(malformedBodies(endpoint), expectRefusedAndNothingAppended), {
        numRuns: RUNS.bodies,
      });
    });

    it('refuses malformed headers (Content-Type, If-Match, Idempotency-Key, Authorization, Content-Encoding) and appends nothing', async () => {
      await fc.assert(fc.asyncProperty(malformedHeaders(endpoint), expectRefusedAndNothingAppended), {
        numRuns: RUNS.headers,
      });
    });

    if (endpoint.pathIds.length > 0) {
      it('refuses malformed or unknown path ids with a 400 or 404 problem and appends nothing', async () => {
        await fc.assert(fc.asyncProperty(malformedPaths(endpoint), expectRefusedAndNothingAppended), {
          numRuns: RUNS.paths,
        });
      });
    }
  });

  describe.each(QUERY_ENDPOINTS)('$name', (endpoint) => {
    it('refuses unknown parameters and malformed values with a 400 problem', async () => {
      await fc.assert(fc.asyncProperty(malformedQueries(endpoint), expectRefusedAndNothingAppended), {
        numRuns: RUNS.queries,
      });
    });
  });

  it('cuts off header values with control characters in the HTTP parser (400) and appends nothing', async () => {
    const body = JSON.stringify({ status: 'investigating' });
    for (const value of ['a\x01b', 'a\x7fb', 'a\x1bb']) {
      const reply = await rawRequest(
        `POST /v1/incidents/${SEED}/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Idempotency-Key: ${value}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        body,
      );
      expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(await appendedSinceLastCheck()).toEqual([]);
  });

  it('is still alive, and the seeded incident is as it was', async () => {
    expect((await api.get('/health/live')).status).toBe(200);
    const record = await api.get(`/v1/incidents/${SEED}?minPosition=${knownHead}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ id: SEED, version: 1, status: 'detected', title: 'Fuzz seed' });
    expect(record.body.timeline.map((fact: { factId: string }) => fact.factId)).toEqual([seedFactId]);
  });

  it('accepts each endpoint’s unmutated request, so the refusals above were the fault’s doing', async () => {
    for (const endpoint of ENDPOINTS) {
      const reply = await send({
        label: endpoint.name,
        method: endpoint.method,
        path: endpoint.path(SEED, seedFactId),
        headers: JSON_HEADERS,
        body: utf8(JSON.stringify(endpoint.valid())),
        expected: [endpoint.success],
      });
      expect({ endpoint: endpoint.name, status: reply.status }).toEqual({
        endpoint: endpoint.name,
        status: endpoint.success,
      });
    }
  });
});
