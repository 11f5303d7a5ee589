import { useEffect, useState } from 'preact/hooks';

export type Route =
  { page: 'list' } | { page: 'incident'; id: string } | { page: 'history'; id: string } | { page: 'not-found' };

const INCIDENT_ID = '[a-z0-9][a-z0-9-]{1,62}[a-z0-9]';

export function routeOf(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'list' };
  const incident = new RegExp(`^/incidents/(${INCIDENT_ID})/?$`).exec(pathname);
  if (incident !== null) return { page: 'incident', id: incident[1] };
  const history = new RegExp(`^/incidents/(${INCIDENT_ID})/history/?$`).exec(pathname);
  if (history !== null) return { page: 'history', id: history[1] };
  return { page: 'not-found' };
}

const CHANGED = 'incident-timeline:navigate';

/** Client-side navigation: the server answers every page path with the same HTML, so a reload lands here again. */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGED));
}

/** The current path and query; re-renders on back/forward and on `navigate`. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const read = () => ({ pathname: window.location.pathname, search: new URLSearchParams(window.location.search) });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => setLocation(read());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGED, update);
    };
  }, []);
  return location;
}

/** For `onClick` of same-origin links: plain clicks navigate in place, modified clicks keep the browser's behaviour. */
export function followLink(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? '/');
}

/** The current URL with some query parameters replaced (undefined or '' removes one). */
export function withParams(changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams(window.location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === '') params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  return `${window.location.pathname}${query === '' ? '' : `?${query}`}`;
}
