import { Inject, Injectable } from '@nestjs/common';
import {
  diffViews,
  evolve,
  noteFactClaimTime,
  foldView,
  incidentIdOf,
  incidentView,
  isInView,
  statusAt,
  statusHistoryOf,
  streamIdOf,
  timelineOf,
  type FactView,
  type IncidentDiff,
  type IncidentState,
  type IncidentView,
  type PointInTime,
  type RecordedEvent,
  type StatusPeriod,
} from '@app/domain';
import { EVENT_STORE, toRecordedEvent, type EventStore } from '@app/event-store';
import { type IncidentSummaryRow, type ProjectionRunner, type ReadModelStore } from '@app/read-models';
import { IncidentNotFoundError, IncidentParkedError, IncidentUnreadableError } from '../errors';
import { PROJECTION_RUNNER, READ_MODELS } from '../tokens';

export interface ListParams {
  status?: string;
  category?: string;
  q?: string;
  technique?: string;
  limit: number;
  cursor?: { updatedAt: string; id: string };
}

const LOG_PAGE = 1000;

/**
 * Reads incidents either from the live read models or, for point-in-time views, by folding a filtered prefix of the
 * log with the same `evolve`.
 */
@Injectable()
export class IncidentViews {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
  ) {}

  async state(incidentId: string, at: PointInTime): Promise<IncidentState> {
    let state: IncidentState | null;
    if (at.asOf === undefined && at.knownAt === undefined && this.runner.serving) {
      const [parked] = await this.readModels.parked([incidentId]);
      if (parked !== undefined) throw new IncidentParkedError(incidentId, parked.eventId, parked.position);
      state = await this.readModels.loadIncident(incidentId);
    } else {
      const stored = await this.store.readStream(streamIdOf(incidentId), { toRecordedAt: at.asOf });
      state = foldOrRefuse(incidentId, () => foldView(stored.map(toRecordedEvent), at));
    }
    if (state === null) throw new IncidentNotFoundError(incidentId);
    return state;
  }

  async incident(incidentId: string, at: PointInTime, includeRetracted = false): Promise<IncidentView> {
    return incidentView(await this.state(incidentId, at), { ...at, includeRetracted });
  }

  async timeline(incidentId: string, at: PointInTime, includeRetracted: boolean): Promise<FactView[]> {
    return timelineOf(await this.state(incidentId, at), { ...at, includeRetracted });
  }

  /** Status periods in valid-time order, as recorded by `asOf` and asserted by `knownAt`; `validAt` keeps those in effect by then. */
  async statusHistory(incidentId: string, at: PointInTime): Promise<StatusPeriod[]> {
    const periods = statusHistoryOf(await this.state(incidentId, at), at);
    if (at.validAt === undefined) return periods;
    const validAt = Date.parse(at.validAt);
    return periods.filter((period) => Date.parse(period.effectiveAt) <= validAt);
  }

  /**
   * What changed between two points on one axis. The incident must exist at `to`; at `from` it may not have, and then
   * everything is new.
   */
  async diff(incidentId: string, from: string, to: string, axis: 'knownAt' | 'asOf'): Promise<IncidentDiff> {
    const stored = await this.store.readStream(streamIdOf(incidentId));
    const events = foldOrRefuse(incidentId, () => stored.map(toRecordedEvent));
    return this.diffOf(incidentId, events, from, to, axis);
  }

  private diffOf(
    incidentId: string,
    events: RecordedEvent[],
    from: string,
    to: string,
    axis: 'knownAt' | 'asOf',
  ): IncidentDiff {
    const view = (instant: string) => {
      const at: PointInTime = axis === 'asOf' ? { asOf: instant } : { knownAt: instant };
      const state = foldOrRefuse(incidentId, () => foldView(events, at));
      return state === null ? null : incidentView(state, at);
    };
    const after = view(to);
    if (after === null) throw new IncidentNotFoundError(incidentId);
    return diffViews(view(from), after);
  }

  async list(params: ListParams, at: PointInTime): Promise<{ items: IncidentSummaryRow[]; next: string | null }> {
    const pointInTime = at.asOf !== undefined || at.knownAt !== undefined || at.validAt !== undefined;
    const rows =
      pointInTime || !this.runner.serving
        ? await this.listFromLog(params, at)
        : await this.readModels.list({
            status: params.status as IncidentSummaryRow['status'] | undefined,
            category: params.category as IncidentSummaryRow['category'] | undefined,
            q: params.q,
            technique: params.technique,
            limit: params.limit + 1,
            after: params.cursor,
          });
    const items = rows.slice(0, params.limit);
    const last = items[items.length - 1];
    const next = rows.length > params.limit && last ? encodeCursor({ updatedAt: last.updatedAt, id: last.id }) : null;
    return { items, next };
  }

  /** Reads the whole global log page by page, incident events only; an unreadable event is passed over. */
  private async *incidentEvents(): AsyncGenerator<RecordedEvent> {
    let after = 0n;
    for (;;) {
      const page = await this.store.readAll({ after, limit: LOG_PAGE });
      if (page.length === 0) return;
      after = page[page.length - 1].position;
      for (const stored of page) {
        if (!stored.streamId.startsWith('incident-') || stored.unreadable !== undefined) continue;
        yield toRecordedEvent(stored);
      }
    }
  }

  /**
   * A point-in-time list folds every incident's events in view; cost grows with the log, not the page. With `knownAt`
   * a first pass learns when each fact was asserted (errata may move it), the second folds.
   */
  private async listFromLog(params: ListParams, at: PointInTime): Promise<IncidentSummaryRow[]> {
    let facts: Map<string, string> | undefined;
    if (at.knownAt !== undefined) {
      facts = new Map();
      for await (const event of this.incidentEvents()) {
        try {
          noteFactClaimTime(facts, event, at.asOf);
        } catch {
          // A poison event; the second pass leaves its incident out.
        }
      }
    }
    const states = new Map<string, IncidentState | null>();
    const unreadable = new Set<string>();
    for await (const event of this.incidentEvents()) {
      const id = incidentIdOf(event.streamId);
      if (unreadable.has(id)) continue;
      try {
        if (isInView(event, at, facts)) states.set(id, evolve(states.get(id) ?? null, event));
      } catch {
        // A poison event: the incident cannot be shown at any point in time, and the rest of the list can.
        unreadable.add(id);
        states.delete(id);
      }
    }
    const q = params.q?.toLowerCase();
    const rows: IncidentSummaryRow[] = [];
    for (const state of states.values()) {
      if (state === null) continue;
      const status = at.validAt === undefined ? state.status : statusAt(state.statusHistory, at.validAt)?.to;
      if (status === undefined) continue;
      if (params.status !== undefined && status !== params.status) continue;
      if (params.category !== undefined && state.category !== params.category) continue;
      if (q !== undefined && !matches(state, q)) continue;
      if (params.technique !== undefined && !usesTechnique(state, params.technique)) continue;
      rows.push({
        id: state.id,
        title: state.title,
        category: state.category,
        status,
        updatedAt: state.updatedAt,
        version: state.version,
      });
    }
    rows.sort((a, b) => (a.updatedAt === b.updatedAt ? a.id.localeCompare(b.id) : a.updatedAt < b.updatedAt ? 1 : -1));
    const cursor = params.cursor;
    const start = cursor
      ? rows.findIndex(
          (row) => row.updatedAt < cursor.updatedAt || (row.updatedAt === cursor.updatedAt && row.id > cursor.id),
        )
      : 0;
    return start < 0 ? [] : rows.slice(start, start + params.limit + 1);
  }
}

/** Folding a stream with a poison event in it is a 503 naming the incident, never a 500. */
function foldOrRefuse<T>(incidentId: string, fold: () => T): T {
  try {
    return fold();
  } catch (error) {
    throw new IncidentUnreadableError(incidentId, error instanceof Error ? error.message : String(error));
  }
}

function matches(state: IncidentState, q: string): boolean {
  return [state.id, state.title, state.summary, ...state.victims, ...state.threatActors].some((text) =>
    text.toLowerCase().includes(q),
  );
}

function usesTechnique(state: IncidentState, technique: string): boolean {
  for (const fact of state.facts.values()) {
    if (fact.retraction !== null) continue;
    if (fact.techniques.some((t) => t === technique || t.startsWith(`${technique}.`))) return true;
  }
  return false;
}

export function encodeCursor(cursor: { updatedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.id])).toString('base64url');
}

/** Returns undefined for anything that is not a cursor this service issued. */
export function decodeCursor(text: string): { updatedAt: string; id: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { updatedAt: value[0], id: value[1] };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
