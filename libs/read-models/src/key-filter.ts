/**
 * A set of string keys that may answer "perhaps" for a key it does not hold, never "no" for one it does: a Bloom
 * filter that grows by adding a stage twice the size of the last once that one is full. It takes about 3 bytes a
 * key. A rebuild keeps in one the keys of the facts it has written, so that the fact of an event it has never written
 * is not looked up in the read models: most events of a log create their fact.
 */
export class KeyFilter {
  private readonly stages: Stage[] = [new Stage(FIRST_STAGE_KEYS)];

  add(key: string): void {
    let last = this.stages[this.stages.length - 1];
    if (last.keys >= last.capacity) {
      last = new Stage(last.capacity * 2);
      this.stages.push(last);
    }
    last.add(hashes(key));
  }

  /** False only for a key never added. */
  mightHold(key: string): boolean {
    const hashed = hashes(key);
    return this.stages.some((stage) => stage.mightHold(hashed));
  }
}

const FIRST_STAGE_KEYS = 4096;
/** Bits a key and probes a key: about 0.6% of absent keys answer true in each stage. */
const BITS_PER_KEY = 12;
const PROBES = 5;

class Stage {
  private readonly bits: Uint32Array;
  private readonly size: number;
  keys = 0;

  constructor(readonly capacity: number) {
    this.bits = new Uint32Array(Math.ceil((capacity * BITS_PER_KEY) / 32));
    this.size = this.bits.length * 32;
  }

  add([h1, h2]: [number, number]): void {
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (h1 + i * h2) % this.size;
      this.bits[bit >>> 5] |= 1 << (bit & 31);
    }
    this.keys += 1;
  }

  mightHold([h1, h2]: [number, number]): boolean {
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (h1 + i * h2) % this.size;
      if ((this.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit hashes of the key (FNV-1a, and a second multiply-and-shift mix), the second odd so that probes spread. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i += 1) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}
