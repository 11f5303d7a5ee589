/**
 * What every adapter accepts as an event's stored data and metadata: JSON objects. Anything else (bytes that do not
 * parse, or JSON of another kind, such as text kept as a JSON string by a migration that never parsed it) cannot be
 * an event of ours; the adapter still delivers the event, marked unreadable, so that readers set it aside in its place.
 */
export function unreadableBody(data: unknown, metadata: unknown): string | undefined {
  if (!isJsonObject(data)) return `stored data is ${kindOf(data)}, not a JSON object`;
  if (!isJsonObject(metadata)) return `stored metadata is ${kindOf(metadata)}, not a JSON object`;
  return undefined;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
