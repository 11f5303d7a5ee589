import type { Confidence, FactKind, Source } from '@app/domain';
import { headline, lastRecordedAt, techniquesOf, type ExportInput } from './export-input';
import { stixId } from './stable-id';

export interface StixObject {
  type: string;
  id: string;
  spec_version: '2.1';
  created: string;
  modified: string;
  [property: string]: unknown;
}

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

export interface ExternalReference {
  source_name: string;
  url?: string;
  description?: string;
  external_id?: string;
}

/**
 * Confidence words on the STIX 0-100 scale: a confirmed fact is certain, a likely one well above even odds, a
 * possible one even odds, a disputed one doubtful but not refuted.
 */
export const STIX_CONFIDENCE: Readonly<Record<Confidence, number>> = {
  confirmed: 100,
  likely: 70,
  possible: 50,
  disputed: 15,
};

const REPORT_KINDS: ReadonlySet<FactKind> = new Set(['disclosure', 'review']);
const COURSE_OF_ACTION_KINDS: ReadonlySet<FactKind> = new Set(['containment', 'remediation']);

/** STIX timestamps are UTC with millisecond precision. */
function timestamp(value: string): string {
  return new Date(value).toISOString();
}

function kindLabel(kind: FactKind): string {
  const words = kind.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function sourceName(source: Source): string {
  let name = source.publisher?.trim();
  if (!name) {
    try {
      name = new URL(source.url).hostname;
    } catch {
      name = 'source';
    }
  }
  // `cve` and `capec` are reserved by the schema for references carrying those registries' ids.
  return /^(cve|capec)$/.test(name) ? `${name} (publisher)` : name;
}

export function externalReferences(sources: readonly Source[]): ExternalReference[] {
  return sources.map((source) => {
    const notes = [source.title, source.publishedAt && `published ${source.publishedAt}`].filter(Boolean);
    return {
      source_name: sourceName(source),
      url: source.url,
      ...(notes.length > 0 && { description: notes.join('; ') }),
    };
  });
}

/** The MITRE ATT&CK reference of a technique id such as `T1606.002`. */
export function attackReference(technique: string): ExternalReference {
  const [base, sub] = technique.split('.');
  return {
    source_name: 'mitre-attack',
    external_id: technique,
    url: `https://attack.mitre.org/techniques/${base}/${sub ? `${sub}/` : ''}`,
  };
}

/** Collects objects by id; the first writer of an id wins, so shared objects (actors, victims) appear once. */
class ObjectSet {
  private readonly objects = new Map<string, StixObject>();

  add(object: StixObject): string {
    if (!this.objects.has(object.id)) this.objects.set(object.id, object);
    return object.id;
  }

  list(): StixObject[] {
    return [...this.objects.values()];
  }
}

/**
 * The STIX 2.1 bundle of an incident view. Pure: the same view and point in time give the same bytes, because every
 * id derives from the incident's and facts' ids and every time from recorded times.
 */
export function toStixBundle({ incident, at }: ExportInput): StixBundle {
  const set = new ObjectSet();
  const incidentId = stixId('incident', incident.id);
  const created = timestamp(incident.createdAt);
  const modified = timestamp(incident.updatedAt);
  const base = { spec_version: '2.1' as const, created, modified };

  set.add({
    type: 'incident',
    id: incidentId,
    ...base,
    name: incident.title,
    ...(incident.summary && { description: incident.summary }),
    labels: [incident.category],
    ...(incident.sources?.length && { external_references: externalReferences(incident.sources) }),
  });

  const identityRoles = new Map<string, Set<string>>();
  const noteRole = (name: string, role: string) => {
    const roles = identityRoles.get(name) ?? new Set<string>();
    roles.add(role);
    identityRoles.set(name, roles);
  };
  for (const victim of incident.victims) noteRole(victim, 'victim');
  for (const fact of incident.timeline) {
    for (const source of fact.sources) if (source.publisher) noteRole(source.publisher, 'publisher');
  }
  const identityId = (name: string) => stixId('identity', incident.id, name);
  for (const [name, roles] of identityRoles) {
    set.add({ type: 'identity', id: identityId(name), ...base, name, roles: [...roles].sort() });
  }

  const actorId = (name: string) => stixId('intrusion-set', incident.id, name);
  const actors = new Set([...incident.threatActors, ...incident.timeline.flatMap((fact) => fact.actors)]);
  for (const name of actors) set.add({ type: 'intrusion-set', id: actorId(name), ...base, name });

  const relationship = (
    type: string,
    source: string,
    target: string,
    extra: Record<string, unknown> = {},
    ...idParts: string[]
  ): StixObject => ({
    type: 'relationship',
    id: stixId('relationship', incident.id, type, source, target, ...idParts),
    ...base,
    relationship_type: type,
    source_ref: source,
    target_ref: target,
    ...extra,
  });
  for (const name of incident.threatActors) set.add(relationship('attributed-to', incidentId, actorId(name)));
  for (const victim of incident.victims) set.add(relationship('targets', incidentId, identityId(victim)));

  const patternId = (technique: string) => stixId('attack-pattern', incident.id, technique);
  for (const technique of new Set(incident.timeline.flatMap(techniquesOf))) {
    set.add({
      type: 'attack-pattern',
      id: patternId(technique),
      ...base,
      name: technique,
      external_references: [attackReference(technique)],
    });
  }

  for (const fact of incident.timeline) {
    const claim = {
      spec_version: '2.1' as const,
      created: timestamp(fact.recordedAt),
      modified: timestamp(lastRecordedAt(fact)),
      confidence: STIX_CONFIDENCE[fact.confidence],
      ...(fact.sources.length > 0 && { external_references: externalReferences(fact.sources) }),
      ...(fact.retracted && { revoked: true }),
    };
    const description = `${fact.summary}\n\nOccurred (EDTF, as written): ${fact.occurredAt}`;
    const techniques = techniquesOf(fact).map(patternId);
    const actorRefs = fact.actors.map(actorId);
    const factRelationship = (type: string, source: string, target: string): StixObject => ({
      ...relationship(type, source, target, {}, fact.factId),
      ...claim,
      description: fact.summary,
    });
    const objects: StixObject[] = [];
    const attributedTo = fact.actors.length > 0 ? actorRefs : incident.threatActors.map(actorId);

    if (REPORT_KINDS.has(fact.kind)) {
      const publisher = fact.sources.find((source) => source.publisher)?.publisher;
      objects.push({
        type: 'report',
        id: stixId('report', incident.id, fact.factId),
        ...claim,
        ...(publisher && { created_by_ref: identityId(publisher) }),
        name: fact.sources.find((source) => source.title)?.title ?? headline(fact.summary),
        description,
        report_types: ['threat-report'],
        published: timestamp(fact.assertedAt),
        object_refs: [incidentId, ...actorRefs, ...techniques],
        labels: [fact.kind],
      });
    } else if (fact.kind === 'detection') {
      const { earliest, latest } = fact.occurredInterval;
      objects.push({
        type: 'sighting',
        id: stixId('sighting', incident.id, fact.factId),
        ...claim,
        description,
        sighting_of_ref: incidentId,
        ...(earliest !== null && { first_seen: timestamp(earliest) }),
        ...(latest !== null && { last_seen: timestamp(latest) }),
        labels: [fact.kind],
      });
    } else if (COURSE_OF_ACTION_KINDS.has(fact.kind)) {
      const action: StixObject = {
        type: 'course-of-action',
        id: stixId('course-of-action', incident.id, fact.factId),
        ...claim,
        name: headline(fact.summary),
        description,
        labels: [fact.kind],
      };
      objects.push(action, ...techniques.map((pattern) => factRelationship('mitigates', action.id, pattern)));
    } else if (fact.kind === 'attribution' && attributedTo.length > 0) {
      objects.push(...attributedTo.map((actor) => factRelationship('attributed-to', incidentId, actor)));
    } else {
      objects.push({
        type: 'note',
        id: stixId('note', incident.id, fact.factId),
        ...claim,
        abstract: `${kindLabel(fact.kind)}, ${fact.occurredAt}`,
        content: description,
        object_refs: [incidentId, ...actorRefs, ...techniques],
        labels: [fact.kind],
      });
    }
    for (const actor of actorRefs) {
      for (const pattern of techniques) objects.push(factRelationship('uses', actor, pattern));
    }
    for (const object of objects) set.add(object);

    const about = objects.map((object) => object.id);
    for (const correction of fact.corrections) {
      const changed = Object.entries(correction.changes)
        .filter(([field]) => field !== 'sources' && field !== 'assertedAt')
        .map(([field, value]) => `${field}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
      const at = timestamp(correction.recordedAt);
      set.add({
        type: 'note',
        id: stixId('note', incident.id, fact.factId, 'correction', String(correction.version)),
        spec_version: '2.1',
        created: at,
        modified: at,
        abstract: `Correction, asserted ${correction.assertedAt}`,
        content: changed.length > 0 ? `${correction.reason}\n\nChanged: ${changed.join('; ')}` : correction.reason,
        object_refs: about,
        labels: ['correction'],
        ...(correction.changes.sources?.length && {
          external_references: externalReferences(correction.changes.sources),
        }),
      });
    }
    if (fact.retraction) {
      const at = timestamp(fact.retraction.recordedAt);
      set.add({
        type: 'note',
        id: stixId('note', incident.id, fact.factId, 'retraction'),
        spec_version: '2.1',
        created: at,
        modified: at,
        abstract: `Retraction, asserted ${fact.retraction.assertedAt}`,
        content: fact.retraction.reason,
        object_refs: about,
        labels: ['retraction'],
      });
    }
  }

  return {
    type: 'bundle',
    id: stixId('bundle', incident.id, String(incident.version), at.knownAt ?? '', at.asOf ?? ''),
    objects: set.list(),
  };
}
