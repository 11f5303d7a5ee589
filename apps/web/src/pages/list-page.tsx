import { useEffect, useState } from 'preact/hooks';
import { CATEGORIES, STATUSES } from '../../../../libs/domain/src/vocabulary';
import { ApiError, type Api } from '../api';
import { StatusBadge } from '../components/status-badge';
import { pointInTimeOf, TimeControls, timeSearch, type PointInTime } from '../components/time-controls';
import { humanize, localDateTime } from '../format';
import { followLink, navigate, withParams } from '../router';
import type { IncidentListItem, Page } from '../types';

const PAGE_SIZE = '20';

/** `/`: every incident, filtered by status, category and text, at a point in time; the URL keeps the choice. */
export function ListPage({ api, search }: { api: Api; search: URLSearchParams }) {
  const at = pointInTimeOf(search);
  const status = search.get('status') ?? '';
  const category = search.get('category') ?? '';
  const q = search.get('q') ?? '';
  const cursor = search.get('cursor') ?? undefined;
  const [page, setPage] = useState<Page<IncidentListItem> | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [text, setText] = useState(q);

  useEffect(() => {
    let current = true;
    api
      .get<Page<IncidentListItem>>('/v1/incidents', {
        status: status || undefined,
        category: category || undefined,
        q: q || undefined,
        cursor,
        limit: PAGE_SIZE,
        ...at,
      })
      .then(
        (result) => {
          if (!current) return;
          setPage(result);
          setProblem(null);
        },
        (error: unknown) => {
          if (!current) return;
          setPage(null);
          setProblem(error instanceof ApiError ? error.message : 'The service could not be reached.');
        },
      );
    return () => {
      current = false;
    };
  }, [api, status, category, q, cursor, at.knownAt, at.asOf, at.validAt]);

  useEffect(() => {
    document.title = 'Incidents · Incident timeline';
  }, []);

  const filter = (changes: Record<string, string | undefined>) =>
    navigate(withParams({ ...changes, cursor: undefined }));

  return (
    <>
      <h1>Incidents</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          filter({ q: text.trim() || undefined });
        }}
      >
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" onChange={(e) => filter({ status: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="" selected={status === ''}>
              any
            </option>
            {STATUSES.map((value) => (
              <option key={value} value={value} selected={value === status}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-category">Category</label>
          <select
            id="filter-category"
            onChange={(e) => filter({ category: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="" selected={category === ''}>
              any
            </option>
            {CATEGORIES.map((value) => (
              <option key={value} value={value} selected={value === category}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="filter-q">Search</label>
          <input
            id="filter-q"
            type="search"
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit">Search</button>
      </form>
      <TimeControls at={at} onChange={(changes: PointInTime) => filter(changes)} />
      {problem !== null && (
        <p class="form-problem" role="alert">
          {problem}
        </p>
      )}
      {page !== null && (
        <>
          <table class="incidents">
            <caption class="visually-hidden">Incidents</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Title</th>
                <th scope="col">Category</th>
                <th scope="col">Status</th>
                <th scope="col">Last update</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((item) => (
                <tr key={item.id}>
                  <td>
                    <a href={`/incidents/${item.id}${timeSearch(at)}`} onClick={followLink}>
                      {item.id}
                    </a>
                  </td>
                  <td>{item.title}</td>
                  <td>{humanize(item.category)}</td>
                  <td>
                    <StatusBadge status={item.status} />
                  </td>
                  <td>{localDateTime(item.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.items.length === 0 && <p class="empty">No incident matches.</p>}
          <nav class="paging" aria-label="Pages">
            {cursor !== undefined && (
              <a href={withParams({ cursor: undefined })} onClick={followLink}>
                First page
              </a>
            )}
            {page.next !== undefined && page.next !== null && (
              <a href={withParams({ cursor: page.next })} onClick={followLink}>
                Next page
              </a>
            )}
          </nav>
        </>
      )}
    </>
  );
}
