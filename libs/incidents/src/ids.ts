import { createHash, randomUUID } from 'node:crypto';

const NAMESPACE = Buffer.from('6f1c2a7e9d3b4c5a8e7f6a5b4c3d2e1f', 'hex');

/** A name-based UUID (RFC 9562 version 5): the same name always gives the same id. */
export function uuidFromName(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What a name-based id derives from: the principal and its Idempotency-Key. */
export interface IdempotencyName {
  iss: string;
  sub: string;
  key: string;
}

/**
 * The name an id derives from, one per principal and key. Ids stored before this encoding were named
 * `<kind>:<iss>|<sub>:<key>`; that is kept where it is unambiguous (no `|` in the issuer, no `|` or `:` in the subject,
 * the case of every issuer and subject this service has seen), so a retry across an upgrade names the same events and
 * facts. Any other principal gets a JSON-encoded name under a prefix the old form cannot produce.
 */
function nameOf(kind: string, { iss, sub, key }: IdempotencyName): string {
  if (!iss.includes('|') && !/[|:]/.test(sub)) return `${kind}:${iss}|${sub}:${key}`;
  return `${kind}/v2:${JSON.stringify([iss, sub, key])}`;
}

/**
 * Event ids for a command. With an idempotency key they derive from the actor and the key, so a retried command
 * produces the same ids and the store itself refuses to write it twice.
 */
export function eventIdsFor(count: number, idempotency?: IdempotencyName): string[] {
  return Array.from({ length: count }, (_, index) =>
    idempotency ? uuidFromName(`${nameOf('event', idempotency)}:${index}`) : randomUUID(),
  );
}

export function factIdFor(idempotency?: IdempotencyName): string {
  return idempotency ? uuidFromName(nameOf('fact', idempotency)) : randomUUID();
}
