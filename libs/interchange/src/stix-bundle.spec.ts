import type { FactView } from '@app/domain';
import { loadStixValidators } from '../../../test/support/stix-schemas';
import type { ExportFact, ExportIncident } from './export-input';
import { toStixBundle, type StixObject } from './stix-bundle';

function fact(overrides: Partial<ExportFact>): ExportFact {
  const base: FactView = {
    factId: '00000000-0000-4000-8000-000000000001',
    kind: 'token-forgery',
    type: 'TokenForged',
    occurredAt: '2023-05-15',
    occurredInterval: { earliest: '2023-05-15T00:00:00.000Z', latest: '2023-05-15T23:59:59.999Z' },
    approximate: false,
    uncertain: false,
    summary: 'Tokens forged with the consumer key.',
    confidence: 'confirmed',
    sources: [{ url: 'https://example.org/analysis', publisher: 'Example', publishedAt: '2023-07-14' }],
    actors: ['Storm-0558'],
    techniques: [],
    assertedAt: '2023-07-14T00:00:00.000Z',
    firstAssertedAt: '2023-07-14T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:01.000Z',
    version: 1,
    position: 2,
    corrected: false,
    corrections: [],
    amended: false,
    errata: [],
    retracted: false,
    retraction: null,
  };
  return { ...base, ...overrides };
}

const incident = (timeline: ExportFact[]): ExportIncident => ({
  id: 'spec-incident',
  title: 'Forged tokens',
  category: 'espionage',
  summary: '',
  victims: ['Example Agency'],
  threatActors: ['Storm-0558'],
  status: 'detected',
  statusEffectiveAt: '2023-06-16T00:00:00.000Z',
  impact: {},
  links: [],
  sources: [],
  assertedAt: '2023-07-14T00:00:00.000Z',
  version: 3,
  position: 4,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:03.000Z',
  timeline,
});

const schemaErrors = loadStixValidators();

describe('STIX bundle', () => {
  it('carries ATT&CK techniques as attack patterns with external_id, used by the fact actors', () => {
    const bundle = toStixBundle({ incident: incident([fact({ techniques: ['T1606.002', 'T1114'] })]), at: {} });
    const patterns = bundle.objects.filter((object) => object.type === 'attack-pattern');
    expect(patterns.map((pattern) => pattern.external_references)).toEqual([
      [
        {
          source_name: 'mitre-attack',
          external_id: 'T1606.002',
          url: 'https://attack.mitre.org/techniques/T1606/002/',
        },
      ],
      [{ source_name: 'mitre-attack', external_id: 'T1114', url: 'https://attack.mitre.org/techniques/T1114/' }],
    ]);
    const actor = bundle.objects.find((object) => object.type === 'intrusion-set')!;
    const uses = bundle.objects.filter((object) => object.relationship_type === 'uses');
    expect(uses.map((relation) => [relation.source_ref, relation.target_ref])).toEqual(
      patterns.map((pattern) => [actor.id, pattern.id]),
    );
    const note = bundle.objects.find((object) => object.type === 'note')!;
    expect(note.object_refs).toEqual(expect.arrayContaining(patterns.map((pattern) => pattern.id)));
    expect(bundle.objects.flatMap(schemaErrors)).toEqual([]);
  });

  it('lets a containment mitigate its techniques, and reads a fact without techniques as having none', () => {
    const bundle = toStixBundle({
      incident: incident([
        fact({ kind: 'containment', type: 'ContainmentApplied', techniques: ['T1550.001'] }),
        fact({ factId: '00000000-0000-4000-8000-000000000002' }),
      ]),
      at: {},
    });
    const action = bundle.objects.find((object) => object.type === 'course-of-action')!;
    expect(bundle.objects.filter((object) => object.relationship_type === 'mitigates')).toEqual([
      expect.objectContaining({ source_ref: action.id, target_ref: expect.stringMatching(/^attack-pattern--/) }),
    ]);
    expect(bundle.objects.flatMap(schemaErrors)).toEqual([]);
  });

  it('marks a retracted attribution revoked and sets modified to the retraction', () => {
    const retraction = {
      reason: 'Attribution withdrawn.',
      assertedAt: '2024-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:05.000Z',
      version: 4,
      position: 5,
    };
    const bundle = toStixBundle({
      incident: incident([fact({ kind: 'attribution', type: 'ActorAttributed', retracted: true, retraction })]),
      at: {},
    });
    const attributed = bundle.objects.filter(
      (object): object is StixObject => object.relationship_type === 'attributed-to' && object.revoked === true,
    );
    expect(attributed).toEqual([
      expect.objectContaining({
        confidence: 100,
        created: '2026-01-01T00:00:01.000Z',
        modified: '2026-01-01T00:00:05.000Z',
      }),
    ]);
    expect(bundle.objects.flatMap(schemaErrors)).toEqual([]);
  });

  it('the schema oracle refuses what STIX refuses (a report without name, a confidence of 101)', () => {
    const [object] = toStixBundle({ incident: incident([]), at: {} }).objects;
    expect(schemaErrors({ ...object, name: undefined })).not.toEqual([]);
    expect(schemaErrors({ ...object, confidence: 101 })).not.toEqual([]);
    expect(schemaErrors({ ...object, type: 'no-such-type' })).not.toEqual([]);
  });
});
