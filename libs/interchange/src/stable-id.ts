import { createHash } from 'node:crypto';

/**
 * The namespace of every identifier this service derives (a random UUID chosen once; changing it would change every
 * exported id).
 */
export const EXPORT_NAMESPACE = '4f0c4a8e-3c5d-4e0b-9d8e-6a1f2b7c9d31';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** A name-based UUID (RFC 9562 version 5, SHA-1): the same namespace and name always give the same id. */
export function uuidV5(name: string, namespace: string = EXPORT_NAMESPACE): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A STIX identifier `<type>--<uuid>` derived from the parts that name the object, so re-exports keep it. */
export function stixId(type: string, ...parts: string[]): string {
  return `${type}--${uuidV5([type, ...parts].join('\u001f'))}`;
}
