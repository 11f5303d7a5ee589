/**
 * Old shapes of stored events are upcast on read by small pure functions, keyed by type and schema version.
 * Schema version 1 is current for every type; an upcaster is added here when a type's data changes shape.
 */
export const CURRENT_SCHEMA_VERSION = 1;

export interface StoredShape {
  type: string;
  data: unknown;
  schemaVersion: number;
}

type Upcaster = (data: unknown) => unknown;

const UPCASTERS: Record<string, Record<number, Upcaster>> = {
  // Version 0 (pre-release) called a fact's sources `references`.
  ...Object.fromEntries(
    [
      'KeyCaptured',
      'AccountCompromised',
      'AccessGained',
      'TokenForged',
      'DataAccessed',
      'DataExfiltrated',
      'IntrusionDetected',
      'PartyNotified',
      'ContainmentApplied',
      'RemediationApplied',
      'DisclosurePublished',
      'ReviewPublished',
      'ActorAttributed',
      'SanctionImposed',
      'FactRecorded',
    ].map((type) => [type, { 0: renameReferencesToSources }]),
  ),
};

function renameReferencesToSources(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || !('references' in data)) return data;
  const { references, ...rest } = data as { references: unknown };
  return { ...rest, sources: references };
}

/** Brings stored data up to the current schema version, one step at a time. */
export function upcast(stored: StoredShape): unknown {
  let { data } = stored;
  const steps = UPCASTERS[stored.type] ?? {};
  for (let version = stored.schemaVersion; version < CURRENT_SCHEMA_VERSION; version += 1) {
    const step = steps[version];
    if (step) data = step(data);
  }
  return data;
}
