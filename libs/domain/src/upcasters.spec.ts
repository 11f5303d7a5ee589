import { CURRENT_SCHEMA_VERSION, upcast } from './upcasters';
import { FACT_EVENT_TYPE_NAMES } from './vocabulary';

const REFERENCES = [{ url: 'https://msrc.microsoft.com/blog/2023/07/mitigation/', publishedAt: '2023-07-11' }];

describe('upcast', () => {
  it.each(FACT_EVENT_TYPE_NAMES)('renames references to sources in a schema-version-0 %s', (type) => {
    const data = { factId: 'f1', kind: 'other', occurredAt: '2023-06-16', summary: 'x', references: REFERENCES };
    expect(upcast({ type, data, schemaVersion: 0 })).toEqual({
      factId: 'f1',
      kind: 'other',
      occurredAt: '2023-06-16',
      summary: 'x',
      sources: REFERENCES,
    });
  });

  it('leaves a schema-version-0 fact without references as it was', () => {
    const data = { factId: 'f1', sources: REFERENCES };
    expect(upcast({ type: 'PartyNotified', data, schemaVersion: 0 })).toEqual(data);
  });

  it('does not change the stored data it upcasts', () => {
    const data = { factId: 'f1', references: REFERENCES };
    upcast({ type: 'KeyCaptured', data, schemaVersion: 0 });
    expect(data).toEqual({ factId: 'f1', references: REFERENCES });
  });

  it('leaves version-0 data of an event type without upcasters as it was', () => {
    const data = { factId: 'f1', references: REFERENCES, reason: 'r', changes: {} };
    expect(upcast({ type: 'FactCorrected', data, schemaVersion: 0 })).toBe(data);
  });

  it('passes data of the current schema version through untouched, even with a field named references', () => {
    const data = { factId: 'f1', references: REFERENCES };
    expect(CURRENT_SCHEMA_VERSION).toBe(1);
    expect(upcast({ type: 'KeyCaptured', data, schemaVersion: CURRENT_SCHEMA_VERSION })).toBe(data);
  });

  it.each([null, 'text', 42])('leaves version-0 data that is not an object (%p) as it was', (data) => {
    expect(upcast({ type: 'KeyCaptured', data, schemaVersion: 0 })).toBe(data);
  });
});
