/**
 * An If-Match precondition (RFC 9110 §13.1.1): `*` (any current representation, i.e. the incident exists) or a list of
 * entity tags. Incidents carry strong tags `"<version>"`; a weak tag never matches, since If-Match compares strongly.
 */
export type IfMatch = { any: true } | { any: false; tags: { weak: boolean; opaque: string }[] };

/** Whether the precondition holds for an incident at `version` (null when it does not exist). */
export function ifMatchHolds(ifMatch: IfMatch, version: number | null): boolean {
  if (version === null) return false;
  if (ifMatch.any) return true;
  return ifMatch.tags.some((tag) => !tag.weak && tag.opaque === String(version));
}

/** The header as the client sent it, normalised, for messages. */
export function describeIfMatch(ifMatch: IfMatch): string {
  return ifMatch.any ? '*' : ifMatch.tags.map((tag) => `${tag.weak ? 'W/' : ''}"${tag.opaque}"`).join(', ');
}
