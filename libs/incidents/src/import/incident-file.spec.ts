import { IncidentFileError, parseIncidentFile } from './incident-file';

const base = { id: 'example-1', title: 'An example', category: 'other' };
const parse = (value: unknown) => parseIncidentFile('example-1.json', JSON.stringify(value));

function refusal(value: unknown): string {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof IncidentFileError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('parseIncidentFile', () => {
  it('accepts a file whose claims carry dates and sources, and keeps them', () => {
    const file = parse({
      ...base,
      assertedAt: '2023-07-11',
      sources: [{ url: 'https://example.org/a', publishedAt: '2023-07-11' }],
      revisions: [{ key: 'later', assertedAt: '2023-09-06', changes: { summary: 'Known later.' } }],
      impactAssessments: [{ key: 'first', assertedAt: '2023-07-11', organisations: 25 }],
      statusChanges: [{ key: 'contained', status: 'contained', effectiveAt: '2023-07-11', assertedAt: '2023-07-11' }],
      facts: [
        {
          key: 'a-fact',
          kind: 'other',
          occurredAt: '2023',
          summary: 'Something.',
          assertedAt: '2023-07-11',
          techniques: ['T1606'],
          corrections: [{ key: 'fix', assertedAt: '2024-03-12', changes: { confidence: 'possible' }, reason: 'Why.' }],
        },
      ],
    });
    expect(file.revisions?.[0]).toMatchObject({ key: 'later', assertedAt: '2023-09-06' });
    expect(file.impactAssessments?.[0]).toMatchObject({ organisations: 25 });
    expect(file.facts?.[0].corrections?.[0].assertedAt).toBe('2024-03-12');
  });

  it('refuses an undated impact beside dated assessments', () => {
    expect(refusal({ ...base, impact: { organisations: 1 }, impactAssessments: [] })).toMatch(
      /impact must not be given beside impactAssessments/,
    );
  });

  it('refuses a revision without a changes object', () => {
    expect(refusal({ ...base, revisions: [{ key: 'r', assertedAt: '2023-01-01' }] })).toMatch(
      /revisions\[0\]\.changes must be an object/,
    );
  });

  it('refuses keys that repeat or are not slugs, in every keyed list', () => {
    expect(refusal({ ...base, impactAssessments: [{ key: 'a' }, { key: 'a' }] })).toMatch(
      /impactAssessments\[1\]\.key repeats "a"/,
    );
    expect(refusal({ ...base, statusChanges: [{ key: 'Not A Slug', status: 'contained' }] })).toMatch(
      /statusChanges\[0\]\.key must be a slug/,
    );
    const fact = { key: 'f', kind: 'other', occurredAt: '2023', summary: 'S.' };
    expect(refusal({ ...base, facts: [{ ...fact, corrections: [{ key: 'c', reason: 'R.' }] }] })).toMatch(
      /facts\[0\]\.corrections\[0\]\.changes must be an object/,
    );
  });

  it('refuses text that is not one JSON object', () => {
    expect(() => parseIncidentFile('x.json', '[1]')).toThrow(/must hold one JSON object/);
    expect(() => parseIncidentFile('x.json', '{')).toThrow(/is not valid JSON/);
  });
});
