import { incidentIdOf, type FactState } from '@app/domain';
import type { EventStore, StoredEvent } from '@app/event-store';
import {
  factIdOf,
  foldIntoRows,
  heldHeader,
  INCIDENT_PROJECTION_NAME,
  parkedBy,
  type HeldHeader,
} from './incident.projection';
import { KeyFilter } from './key-filter';
import { decodeFact, factRowOf, type FactRow } from './rows';
import { factKeyOf, type FactKey, type ParkedIncident, type ReadModelStore, type RowChanges } from './read-model.port';

export interface RebuildProgress {
  /** Events read from the log so far. */
  applied: number;
  position: bigint;
  head: bigint;
}

export interface RebuildResult extends RebuildProgress {
  /** Transactions written. */
  flushes: number;
}

export interface RebuildOptions {
  onProgress?: (progress: RebuildProgress) => void;
  /** Events read from the log at a time. */
  pageSize?: number;
  /**
   * The working set's bound in facts: once more facts changed since their last write are held in memory, everything
   * held is written in one transaction and the facts are let go.
   */
  maxFacts?: number;
  /** The working set's bound in incidents: past it, between pages, the headers touched longest ago are let go. */
  maxIncidents?: number;
  now?: () => string;
}

/**
 * Each flush rewrites the index pages and the header of every incident it holds, whatever the number of facts, so on
 * a log that interleaves many incidents its cost is mostly per flush: 40,000 facts rather than 20,000 made a rebuild
 * of 1M events over 10k incidents about a tenth faster, and its peak RSS stayed at about 250 MB with the heap growth
 * that `npm run cli -- rebuild` sets (`apps/cli/src/heap.ts`).
 */
export const REBUILD_DEFAULTS = { pageSize: 5_000, maxFacts: 40_000, maxIncidents: 20_000 } as const;

interface HeldIncident extends HeldHeader {
  /**
   * Facts changed since the incident's rows were last written, by fact id, held as the rows they will be written as:
   * a row is a fraction of the fact's objects in memory, and most facts change once.
   */
  facts: Map<string, FactRow>;
}

/**
 * The incidents a rebuild holds in memory: their headers and the facts changed since they were last written. Events
 * fold into it with the same `foldIntoRows` as the live projection; it writes everything it holds in one transaction
 * when its bound is reached, so a rebuild writes each row once per flush instead of once per page that touches it.
 */
class WorkingSet {
  private readonly held = new Map<string, HeldIncident>();
  private readonly parkedIds = new Set<string>();
  private pendingParked: ParkedIncident[] = [];
  private heldFacts = 0;
  flushes = 0;
  /** Facts as stored before the current page, looked up once for the page; kept current by flushes within it. */
  private lookedUp = new Map<string, FactState | FactRow>();
  checkpoint = 0n;
  /**
   * The facts written so far (the rows were empty when the rebuild began): a fact it does not hold is new, and is not
   * looked up. Most events of a log create their fact.
   */
  private readonly writtenFacts = new KeyFilter();

  constructor(
    private readonly readModels: ReadModelStore,
    private readonly options: Required<Omit<RebuildOptions, 'onProgress'>>,
  ) {}

  async applyPage(page: StoredEvent[]): Promise<void> {
    const events = page.filter((event) => event.streamId.startsWith('incident-'));
    await this.loadFor(events);
    for (const event of events) {
      this.apply(event);
      if (this.heldFacts > this.options.maxFacts) await this.flush(event.position);
    }
    if (this.held.size > this.options.maxIncidents) {
      await this.flush(page[page.length - 1].position);
      this.evictOldest();
    }
    this.lookedUp = new Map();
  }

  /** Writes everything held and moves the checkpoint to `position`: every event up to it is folded in. */
  async flush(position: bigint): Promise<void> {
    const changes: RowChanges = { headers: [], facts: [], parked: this.pendingParked };
    for (const [incidentId, incident] of this.held) {
      if (!incident.touched || incident.header === null) continue;
      changes.headers.push({
        header: incident.header,
        statusChanged: incident.statusChanged,
        linksChanged: incident.linksChanged,
      });
      for (const row of incident.facts.values()) {
        changes.facts.push(row);
        const key = factKeyOf(incidentId, row.factId);
        this.writtenFacts.add(key);
        // Later events of the same page find it here, as stored now.
        this.lookedUp.set(key, row);
      }
      incident.statusChanged = incident.linksChanged = incident.touched = false;
      incident.facts = new Map();
    }
    if (changes.headers.length === 0 && changes.parked!.length === 0 && position === this.checkpoint) return;
    await this.readModels.commit(INCIDENT_PROJECTION_NAME, changes, position, this.checkpoint);
    this.checkpoint = position;
    this.flushes += 1;
    this.pendingParked = [];
    this.heldFacts = 0;
  }

  /** Reads, in one call each, the headers of the page's incidents not held and the stored facts it may change. */
  private async loadFor(events: StoredEvent[]): Promise<void> {
    const missing = new Set<string>();
    for (const event of events) {
      const id = incidentIdOf(event.streamId);
      const incident = this.held.get(id);
      if (incident === undefined) {
        if (!this.parkedIds.has(id)) missing.add(id);
      } else {
        // Touched by this page: it moves to the young end of the eviction order.
        this.held.delete(id);
        this.held.set(id, incident);
      }
    }
    const headers = await this.readModels.loadHeaders([...missing]);
    for (const id of missing) {
      const header = headers.get(id) ?? null;
      this.held.set(id, { ...heldHeader(header), facts: new Map() });
    }
    const keys: FactKey[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      const factId = factIdOf(event.data);
      const incidentId = incidentIdOf(event.streamId);
      const incident = this.held.get(incidentId);
      if (factId === undefined || incident === undefined || incident.facts.has(factId)) continue;
      const key = factKeyOf(incidentId, factId);
      if (seen.has(key) || !this.writtenFacts.mightHold(key)) continue;
      seen.add(key);
      keys.push({ incidentId, factId });
    }
    this.lookedUp = await this.readModels.loadFacts(keys);
  }

  private apply(event: StoredEvent): void {
    const id = incidentIdOf(event.streamId);
    if (this.parkedIds.has(id)) return;
    const incident = this.held.get(id)!;
    const factId = factIdOf(event.data);
    const held =
      factId === undefined ? undefined : (incident.facts.get(factId) ?? this.lookedUp.get(factKeyOf(id, factId)));
    const fact = held === undefined || !('json' in held) ? held : decodeFact(held.json);
    let updated: FactState | undefined;
    try {
      updated = foldIntoRows(incident, event, fact);
    } catch (error) {
      // A poison event: its incident is set aside, with its rows as they were just before that event.
      this.parkedIds.add(id);
      this.pendingParked.push(parkedBy(event, error, this.options.now()));
      return;
    }
    if (updated === undefined || factId === undefined) return;
    if (!incident.facts.has(factId)) this.heldFacts += 1;
    incident.facts.set(factId, factRowOf(id, updated));
  }

  /** Lets go of the headers touched longest ago, down to half the bound; they are all written. */
  private evictOldest(): void {
    const keep = Math.floor(this.options.maxIncidents / 2);
    for (const id of this.held.keys()) {
      if (this.held.size <= keep) break;
      this.held.delete(id);
    }
  }
}

/**
 * Empties the projection's rows and folds the whole log into them again. The log is read in large pages and folded
 * into a working set of incidents held in memory, bounded by `maxFacts` and `maxIncidents`; each time a bound is
 * reached, everything held is written in one transaction with the checkpoint. The rows come out the same as from
 * incremental projection, whatever the bounds: both fold with `foldIntoRows`.
 */
export async function rebuildReadModels(
  store: EventStore,
  readModels: ReadModelStore,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const settings = {
    pageSize: options.pageSize ?? REBUILD_DEFAULTS.pageSize,
    maxFacts: options.maxFacts ?? REBUILD_DEFAULTS.maxFacts,
    maxIncidents: options.maxIncidents ?? REBUILD_DEFAULTS.maxIncidents,
    now: options.now ?? (() => new Date().toISOString()),
  };
  await readModels.reset(INCIDENT_PROJECTION_NAME);
  const head = await store.headPosition();
  const working = new WorkingSet(readModels, settings);
  let position = 0n;
  let applied = 0;
  for (;;) {
    const page = await store.readAll({ after: position, limit: settings.pageSize });
    if (page.length === 0) break;
    await working.applyPage(page);
    position = page[page.length - 1].position;
    applied += page.length;
    options.onProgress?.({ applied, position, head: head > position ? head : position });
  }
  await working.flush(position);
  return { applied, position, head, flushes: working.flushes };
}
