import { useEffect, useState } from 'preact/hooks';
import { type Api } from '../api';
import { readWholeHistory } from '../history-pages';
import { localDate, localDateTime } from '../format';
import { followLink } from '../router';
import type { HistoryEntry } from '../types';

function claimDate(data: Record<string, unknown>): string {
  return typeof data.assertedAt === 'string' ? localDate(data.assertedAt) : '';
}

function what(entry: HistoryEntry): string {
  const data = entry.data ?? {};
  if (typeof data.title === 'string') return data.title;
  if (typeof data.summary === 'string') return data.summary;
  if (entry.type === 'IncidentStatusChanged') return `${String(data.from ?? 'none')} → ${String(data.to)}`;
  if (entry.type === 'IncidentLinked') return `${String(data.relation)} ${String(data.incidentId)}`;
  if (data.changes !== undefined) return JSON.stringify(data.changes);
  return '';
}

/** `/incidents/{id}/history`: the audit view, every event oldest first, with who recorded it, when, and why. */
export function HistoryPage({ api, id }: { api: Api; id: string }) {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    readWholeHistory(api, id).then(
      (all) => current && setEntries(all),
      (error: unknown) =>
        current && setProblem(error instanceof Error ? error.message : 'The history could not be read.'),
    );
    document.title = `History of ${id} · Incident timeline`;
    return () => {
      current = false;
    };
  }, [api, id]);

  return (
    <>
      <p class="breadcrumbs">
        <a href="/" onClick={followLink}>
          All incidents
        </a>{' '}
        ›{' '}
        <a href={`/incidents/${id}`} onClick={followLink}>
          {id}
        </a>
      </p>
      <h1>Audit history of {id}</h1>
      <p class="muted">
        Every event as stored, oldest first. Nothing is edited in place: corrections and retractions are events too.
      </p>
      {problem !== null && (
        <p class="form-problem" role="alert">
          {problem}
        </p>
      )}
      {entries === null && problem === null && <p role="status">Loading…</p>}
      {entries !== null && (
        <table class="history">
          <caption class="visually-hidden">Events of {id}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Event</th>
              <th scope="col">Recorded by</th>
              <th scope="col">Recorded at</th>
              <th scope="col">Asserted at</th>
              <th scope="col">What</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.eventId} class="history-entry">
                <td>{entry.version}</td>
                <td>
                  <code>{entry.type}</code>
                </td>
                <td>{entry.actor?.sub ?? ''}</td>
                <td>{localDateTime(entry.recordedAt)}</td>
                <td>{claimDate(entry.data ?? {})}</td>
                <td class="what">
                  <p class="clamped">{what(entry)}</p>
                  <details>
                    <summary>Event data</summary>
                    <pre>{JSON.stringify(entry.data, null, 2)}</pre>
                  </details>
                </td>
                <td>{typeof entry.data?.reason === 'string' ? entry.data.reason : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
