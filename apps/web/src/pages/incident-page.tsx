import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api';
import { DiffPanel } from '../components/diff-panel';
import { FactList } from '../components/fact-list';
import { CorrectFactForm, RecordFactForm, StatusForm } from '../components/forms';
import { StatusBadge } from '../components/status-badge';
import { TimeAxis } from '../components/time-axis';
import { pointInTimeOf, TimeControls, timeSearch, type PointInTime } from '../components/time-controls';
import { readWholeHistory } from '../history-pages';
import { humanize, localDate, localDateTime, numberText } from '../format';
import { knowledgeDates } from '../knowledge-dates';
import { followIncident, type FeedState } from '../live-feed';
import { followLink, navigate, withParams } from '../router';
import type { Session } from '../session';
import type { FactView, IncidentView, Page } from '../types';

interface Loaded {
  incident: IncidentView;
  facts: FactView[];
}

type ViewState =
  { kind: 'loading' } | { kind: 'loaded'; view: Loaded } | { kind: 'problem'; message: string; status?: number };

const LIVE_LABELS: Record<FeedState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live: new facts and status changes appear here',
  reconnecting: 'Live updates interrupted; reconnecting…',
  stopped: 'Live updates stopped',
};

/** `/incidents/{id}`: the record at a point in time, on a time axis and as a list, live, with writes for writers. */
export function IncidentPage(props: { api: Api; session: Session; id: string; search: URLSearchParams }) {
  const { api, session, id } = props;
  const at = pointInTimeOf(props.search);
  const [state, setState] = useState<ViewState>({ kind: 'loading' });
  const [dates, setDates] = useState<string[]>([]);
  const [feed, setFeed] = useState<FeedState>('connecting');
  const [announcement, setAnnouncement] = useState('');
  const [correcting, setCorrecting] = useState<FactView | null>(null);
  const [reload, setReload] = useState<{ tick: number; minPosition?: number }>({ tick: 0 });
  const canWrite = session.scopes.has('incidents:write');

  const refresh = useCallback((minPosition?: number) => {
    setReload((previous) => ({
      tick: previous.tick + 1,
      minPosition: Math.max(minPosition ?? 0, previous.minPosition ?? 0) || undefined,
    }));
  }, []);

  useEffect(() => {
    let current = true;
    const query = { ...at, minPosition: reload.minPosition === undefined ? undefined : String(reload.minPosition) };
    Promise.all([
      api.get<IncidentView>(`/v1/incidents/${id}`, query),
      api.get<Page<FactView>>(`/v1/incidents/${id}/timeline`, { ...query, includeRetracted: 'true' }),
    ]).then(
      ([incident, timeline]) => {
        if (current) setState({ kind: 'loaded', view: { incident, facts: timeline.items } });
      },
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.status === 404) {
          const when = at.knownAt ?? at.asOf ?? at.validAt;
          setState({
            kind: 'problem',
            status: 404,
            message:
              when === undefined
                ? `There is no incident ${id}.`
                : `Incident ${id} is not in the record at the chosen point in time (it became known or was recorded later).`,
          });
        } else
          setState({
            kind: 'problem',
            message: error instanceof Error ? error.message : 'The service could not be reached.',
          });
      },
    );
    return () => {
      current = false;
    };
  }, [api, id, at.knownAt, at.asOf, at.validAt, reload]);

  useEffect(() => {
    let current = true;
    readWholeHistory(api, id).then(
      (history) => current && setDates(knowledgeDates(history)),
      () => current && setDates([]),
    );
    return () => {
      current = false;
    };
  }, [api, id, reload.tick]);

  useEffect(() => {
    return followIncident(api, id, {
      onOpen: () => refresh(),
      onState: setFeed,
      onEvent: (event) => {
        const data = event.data;
        const sub = data.actor?.sub;
        setAnnouncement(`${event.type} recorded${sub === undefined ? '' : ` by ${sub}`}`);
        refresh(event.id === undefined ? undefined : Number(event.id));
      },
    });
  }, [api, id, refresh]);

  const loaded = state.kind === 'loaded' ? state.view : null;
  useEffect(() => {
    document.title = `${loaded?.incident.title ?? id} · Incident timeline`;
  }, [loaded?.incident.title, id]);

  const headingRef = useRef<HTMLHeadingElement>(null);
  const correctionRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (correcting !== null) correctionRef.current?.querySelector<HTMLElement>('h3')?.focus();
  }, [correcting]);

  const changeTime = (changes: PointInTime) => navigate(withParams(changes));

  return (
    <>
      <p class="breadcrumbs">
        <a href={`/${timeSearch(at)}`} onClick={followLink}>
          All incidents
        </a>
      </p>
      {loaded !== null ? (
        <Header incident={loaded.incident} at={at} headingRef={headingRef} />
      ) : (
        <h1 ref={headingRef}>{id}</h1>
      )}
      <div class="incident-bar">
        <p class={`live live-${feed}`} role="status">
          <span class="live-dot" aria-hidden="true" /> {LIVE_LABELS[feed]}
          <span class="visually-hidden" aria-live="polite">
            {announcement}
          </span>
        </p>
        <nav class="incident-nav" aria-label="Incident">
          <a href={`/incidents/${id}/history`} onClick={followLink}>
            Audit history
          </a>
        </nav>
      </div>
      <TimeControls at={at} onChange={changeTime} knowledgeDates={dates} />
      {state.kind === 'loading' && <p role="status">Loading…</p>}
      {state.kind === 'problem' && (
        <p class="form-problem" role="alert">
          {state.message}
        </p>
      )}
      {loaded !== null && (
        <section class="panel" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          {loaded.facts.length > 0 && <TimeAxis facts={loaded.facts} />}
          <FactList facts={loaded.facts} onCorrect={canWrite ? setCorrecting : undefined} />
        </section>
      )}
      {loaded !== null && <DiffPanel api={api} incidentId={id} dates={dates} />}
      {canWrite && loaded !== null && (
        <section class="panel" aria-labelledby="write-title">
          <h2 id="write-title">Add to the record</h2>
          <p class="muted">Recorded as {session.sub}. Corrections and status changes never erase what was recorded.</p>
          {correcting !== null && (
            <div ref={correctionRef}>
              <CorrectFactForm
                key={correcting.factId}
                api={api}
                incidentId={id}
                fact={correcting}
                onDone={(position) => {
                  setCorrecting(null);
                  refresh(position);
                }}
                onCancel={() => setCorrecting(null)}
              />
            </div>
          )}
          <RecordFactForm api={api} incidentId={id} onDone={refresh} />
          <StatusForm api={api} incidentId={id} current={loaded.incident.status} onDone={refresh} />
        </section>
      )}
    </>
  );
}

/** A long summary shows its first lines until the reader asks for the rest. */
function Summary({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const long = text.length > 320;
  return (
    <div class="summary-block">
      <p id="incident-summary" class={long && !open ? 'summary clamped' : 'summary'}>
        {text}
      </p>
      {long && (
        <button
          type="button"
          class="link-button"
          aria-expanded={open}
          aria-controls="incident-summary"
          onClick={() => setOpen(!open)}
        >
          {open ? 'Show less' : 'Show the whole summary'}
        </button>
      )}
    </div>
  );
}

function Header(props: {
  incident: IncidentView;
  at: PointInTime;
  headingRef: { current: HTMLHeadingElement | null };
}) {
  const { incident, at } = props;
  const impact = incident.impact ?? {};
  return (
    <header class="incident-header">
      <h1 ref={props.headingRef}>{incident.title}</h1>
      <p class="meta">
        <code>{incident.id}</code> · {humanize(incident.category)} · <StatusBadge status={incident.status} />
        {incident.statusEffectiveAt !== null && (
          <span class="muted"> since {localDate(incident.statusEffectiveAt)}</span>
        )}
        <span class="muted"> · updated {localDateTime(incident.updatedAt)}</span>
      </p>
      {incident.summary !== '' && <Summary text={incident.summary} />}
      <dl class="facts-row">
        {incident.victims.length > 0 && (
          <div>
            <dt>Victims</dt>
            <dd>{incident.victims.join(', ')}</dd>
          </div>
        )}
        {incident.threatActors.length > 0 && (
          <div>
            <dt>Threat actors</dt>
            <dd>{incident.threatActors.join(', ')}</dd>
          </div>
        )}
        {(impact.organisations !== undefined || impact.records !== undefined || impact.lossUsd !== undefined) && (
          <div>
            <dt>Impact</dt>
            <dd>
              {[
                impact.organisations !== undefined ? `${numberText(impact.organisations)} organisations` : '',
                impact.records !== undefined ? `${numberText(impact.records)} records` : '',
                impact.lossUsd !== undefined ? `US$ ${numberText(impact.lossUsd)} lost` : '',
              ]
                .filter(Boolean)
                .join(' · ')}
            </dd>
          </div>
        )}
        {incident.links.length > 0 && (
          <div>
            <dt>Related incidents</dt>
            <dd>
              <ul class="inline">
                {incident.links.map((link) => (
                  <li key={link.incidentId}>
                    <a href={`/incidents/${link.incidentId}${timeSearch(at)}`} onClick={followLink}>
                      {link.incidentId}
                    </a>{' '}
                    <span class="muted">({humanize(link.relation)})</span>
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        )}
      </dl>
    </header>
  );
}
