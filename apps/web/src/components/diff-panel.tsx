import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api';
import { humanize, localDate } from '../format';
import type { FactView, IncidentDiff, Page } from '../types';

type Outcome =
  | { kind: 'diff'; diff: IncidentDiff }
  | { kind: 'side-by-side'; before: FactView[]; after: FactView[]; from: string; to: string }
  | { kind: 'problem'; message: string };

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function FactLine({ fact }: { fact: FactView }) {
  return (
    <>
      <code>{fact.occurredAt}</code> {humanize(fact.kind)} ({fact.confidence}): {fact.summary}
    </>
  );
}

function DiffView({ diff }: { diff: IncidentDiff }) {
  const { added, removed, changed } = diff.facts;
  const nothing =
    added.length + removed.length + changed.length + diff.details.length + diff.impact.length === 0 &&
    diff.status === null &&
    diff.links.added.length + diff.links.removed.length === 0;
  return (
    <div class="diff" aria-live="polite">
      <p class="muted">
        Known at {localDate(diff.from)} → known at {localDate(diff.to)}
      </p>
      {nothing && <p>Nothing changed between these dates.</p>}
      {changed.length > 0 && (
        <section aria-labelledby="diff-changed">
          <h4 id="diff-changed">Facts changed</h4>
          <ul>
            {changed.map((change) => (
              <li key={change.factId} class="diff-changed">
                <FactLine fact={change.after} />
                <ul>
                  {change.fields.map((field) => (
                    <li key={field.field}>
                      <strong>{field.field}</strong>: <del>{show(field.before)}</del> → <ins>{show(field.after)}</ins>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </section>
      )}
      {added.length > 0 && (
        <section aria-labelledby="diff-added">
          <h4 id="diff-added">Facts added</h4>
          <ul>
            {added.map((fact) => (
              <li key={fact.factId}>
                <FactLine fact={fact} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {removed.length > 0 && (
        <section aria-labelledby="diff-removed">
          <h4 id="diff-removed">Facts removed</h4>
          <ul>
            {removed.map((fact) => (
              <li key={fact.factId}>
                <FactLine fact={fact} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {diff.status !== null && (
        <section aria-labelledby="diff-status">
          <h4 id="diff-status">Status</h4>
          <p>
            <del>{diff.status.before?.status ?? '(none)'}</del> → <ins>{diff.status.after?.status ?? '(none)'}</ins>
          </p>
        </section>
      )}
      {[...diff.details, ...diff.impact].length > 0 && (
        <section aria-labelledby="diff-details">
          <h4 id="diff-details">Details and impact</h4>
          <ul>
            {[...diff.details, ...diff.impact].map((field) => (
              <li key={field.field}>
                <strong>{field.field}</strong>: <del>{show(field.before)}</del> → <ins>{show(field.after)}</ins>
              </li>
            ))}
          </ul>
        </section>
      )}
      {diff.links.added.length + diff.links.removed.length > 0 && (
        <section aria-labelledby="diff-links">
          <h4 id="diff-links">Links</h4>
          <ul>
            {diff.links.added.map((link) => (
              <li key={`+${link.incidentId}`}>
                added {link.relation} {link.incidentId}
              </li>
            ))}
            {diff.links.removed.map((link) => (
              <li key={`-${link.incidentId}`}>
                removed {link.relation} {link.incidentId}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/**
 * "What changed" between two knownAt dates, from GET /v1/incidents/{id}/diff. A service without that route gets the
 * two timelines side by side instead; the page computes no difference itself.
 */
export function DiffPanel({ api, incidentId, dates }: { api: Api; incidentId: string; dates: string[] }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // Until the reader picks, compare the last two days on which public knowledge changed.
  useEffect(() => {
    if (dates.length === 0) return;
    setFrom((current) => current || (dates.at(-2) ?? dates[0]));
    setTo((current) => current || (dates.at(-1) ?? dates[0]));
  }, [dates]);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  async function compare(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      const diff = await api.get<IncidentDiff>(`/v1/incidents/${incidentId}/diff`, { from, to, axis: 'knownAt' });
      setOutcome({ kind: 'diff', diff });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && /^No route/.test(error.problem.detail ?? '')) {
        setOutcome(await sideBySide(api, incidentId, from, to));
      } else {
        setOutcome({ kind: 'problem', message: error instanceof Error ? error.message : 'The comparison failed.' });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="diff-title">
      <h2 id="diff-title">What changed</h2>
      <form class="diff-form" onSubmit={compare}>
        <div class="field">
          <label for="diff-from">From (known at)</label>
          <input
            id="diff-from"
            type="date"
            value={from}
            onChange={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="diff-to">To (known at)</label>
          <input
            id="diff-to"
            type="date"
            value={to}
            onChange={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" disabled={busy || from === '' || to === ''}>
          Compare
        </button>
      </form>
      {outcome?.kind === 'diff' && <DiffView diff={outcome.diff} />}
      {outcome?.kind === 'problem' && (
        <p class="form-problem" role="alert">
          {outcome.message}
        </p>
      )}
      {outcome?.kind === 'side-by-side' && (
        <div>
          <p class="muted">This service does not compare views yet; here are both, side by side.</p>
          <div class="side-by-side">
            {[
              ['Known at ' + outcome.from, outcome.before],
              ['Known at ' + outcome.to, outcome.after],
            ].map(([title, facts]) => (
              <section key={title as string} aria-label={title as string}>
                <h4>{title as string}</h4>
                <ul>
                  {(facts as FactView[]).map((fact) => (
                    <li key={fact.factId}>
                      <FactLine fact={fact} />
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
        </div>
      )}
    </section>
  );
}

async function sideBySide(api: Api, incidentId: string, from: string, to: string): Promise<Outcome> {
  const view = async (knownAt: string) => {
    try {
      return (await api.get<Page<FactView>>(`/v1/incidents/${incidentId}/timeline`, { knownAt })).items;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return [];
      throw error;
    }
  };
  try {
    const [before, after] = await Promise.all([view(from), view(to)]);
    return { kind: 'side-by-side', before, after, from, to };
  } catch (error) {
    return { kind: 'problem', message: error instanceof Error ? error.message : 'The views could not be read.' };
  }
}
