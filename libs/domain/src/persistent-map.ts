/**
 * An immutable map from string keys with structural sharing (a hash array mapped trie, 32-way): `set` copies only
 * the path to one leaf, so folding N facts into a state costs O(N log N) instead of O(N²) for copying a plain object
 * per event, and every earlier state stays valid. Iteration order is the order keys were first set.
 */
const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const MAX_DEPTH = 6;

type Node<V> = Branch<V> | Leaf<V>;
interface Branch<V> {
  kind: 'branch';
  children: (Node<V> | undefined)[];
}
interface Leaf<V> {
  kind: 'leaf';
  entries: [key: string, value: V, order: number][];
}

function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function slot(hash: number, depth: number): number {
  return (hash >>> (depth * BITS)) & MASK;
}

export class PersistentMap<V> {
  private constructor(
    private readonly root: Branch<V>,
    readonly size: number,
    private readonly nextOrder: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>({ kind: 'branch', children: new Array(WIDTH) }, 0, 0);
  }

  static from<V>(entries: Iterable<[string, V]>): PersistentMap<V> {
    let map = PersistentMap.empty<V>();
    for (const [key, value] of entries) map = map.set(key, value);
    return map;
  }

  get(key: string): V | undefined {
    const hash = hashOf(key);
    let node: Node<V> | undefined = this.root;
    for (let depth = 0; node !== undefined; depth += 1) {
      if (node.kind === 'leaf') return node.entries.find((entry) => entry[0] === key)?.[1];
      node = node.children[slot(hash, depth)];
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): PersistentMap<V> {
    const hash = hashOf(key);
    let added = false;
    let order = this.nextOrder;
    const insert = (node: Node<V> | undefined, depth: number): Node<V> => {
      if (node === undefined) {
        added = true;
        return { kind: 'leaf', entries: [[key, value, order]] };
      }
      if (node.kind === 'leaf') {
        const index = node.entries.findIndex((entry) => entry[0] === key);
        if (index >= 0) {
          order = node.entries[index][2];
          const entries = node.entries.slice();
          entries[index] = [key, value, order];
          return { kind: 'leaf', entries };
        }
        if (depth >= MAX_DEPTH) {
          added = true;
          return { kind: 'leaf', entries: [...node.entries, [key, value, order]] };
        }
        // Split the leaf into a branch holding its entries, then insert below it.
        let branch: Node<V> = { kind: 'branch', children: new Array(WIDTH) };
        for (const entry of node.entries) branch = placeEntry(branch as Branch<V>, entry, depth);
        return insert(branch, depth);
      }
      const children = node.children.slice();
      children[slot(hash, depth)] = insert(node.children[slot(hash, depth)], depth + 1);
      return { kind: 'branch', children };
    };
    const root = insert(this.root, 0) as Branch<V>;
    return new PersistentMap(root, added ? this.size + 1 : this.size, added ? this.nextOrder + 1 : this.nextOrder);
  }

  *entries(): IterableIterator<[string, V]> {
    const all: [string, V, number][] = [];
    const walk = (node: Node<V> | undefined) => {
      if (node === undefined) return;
      if (node.kind === 'leaf') all.push(...node.entries);
      else node.children.forEach(walk);
    };
    walk(this.root);
    all.sort((a, b) => a[2] - b[2]);
    for (const [key, value] of all) yield [key, value];
  }

  /** The values in no particular order, without sorting them by insertion: for callers that sort them anyway. */
  unorderedValues(): V[] {
    const all: V[] = [];
    const walk = (node: Node<V> | undefined) => {
      if (node === undefined) return;
      if (node.kind === 'leaf') for (const entry of node.entries) all.push(entry[1]);
      else node.children.forEach(walk);
    };
    walk(this.root);
    return all;
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** A plain object, so states serialise (and compare in tests) as they did when facts were a record. */
  toJSON(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }
}

function placeEntry<V>(branch: Branch<V>, entry: [string, V, number], depth: number): Branch<V> {
  const index = slot(hashOf(entry[0]), depth);
  const children = branch.children.slice();
  const existing = children[index];
  if (existing === undefined) children[index] = { kind: 'leaf', entries: [entry] };
  else if (existing.kind === 'leaf' && depth + 1 >= MAX_DEPTH)
    children[index] = { kind: 'leaf', entries: [...existing.entries, entry] };
  else if (existing.kind === 'leaf') {
    let sub: Branch<V> = { kind: 'branch', children: new Array(WIDTH) };
    for (const known of existing.entries) sub = placeEntry(sub, known, depth + 1);
    children[index] = placeEntry(sub, entry, depth + 1);
  } else children[index] = placeEntry(existing, entry, depth + 1);
  return { kind: 'branch', children };
}
