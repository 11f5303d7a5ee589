import { useMemo, useState } from 'preact/hooks';
import { createApi } from './api';
import { SignIn } from './components/sign-in';
import { HistoryPage } from './pages/history-page';
import { IncidentPage } from './pages/incident-page';
import { ListPage } from './pages/list-page';
import { followLink, routeOf, useLocation } from './router';
import { forgetToken, saveToken, storedSession, type Session, type SessionResult } from './session';

export function App({ initial }: { initial: SessionResult }) {
  const [session, setSession] = useState<Session | null>(initial.session);
  const [message, setMessage] = useState<string | undefined>(initial.session === null ? initial.message : undefined);
  const location = useLocation();

  const api = useMemo(
    () =>
      session === null
        ? null
        : createApi(session.token, (problem) => {
            forgetToken();
            setSession(null);
            setMessage(
              `The service refused your token (${problem.detail ?? 'expired or invalid'}). Sign in again with a new one.`,
            );
          }),
    [session],
  );

  const signOut = () => {
    forgetToken();
    setSession(null);
    setMessage('Signed out.');
  };

  const route = routeOf(location.pathname);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <a class="brand" href="/" onClick={followLink}>
          Incident timeline
        </a>
        {session !== null && (
          <div class="who">
            <span>
              Signed in as <strong>{session.sub}</strong>
              <span class="muted"> ({[...session.scopes].join(' ') || 'no scopes'})</span>
            </span>
            <button type="button" class="secondary small" onClick={signOut}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {session === null || api === null ? (
          <SignIn
            message={message}
            onSignIn={(next) => {
              saveToken(next.token);
              setMessage(undefined);
              setSession(next);
            }}
          />
        ) : route.page === 'list' ? (
          <ListPage api={api} search={location.search} />
        ) : route.page === 'incident' ? (
          <IncidentPage key={route.id} api={api} session={session} id={route.id} search={location.search} />
        ) : route.page === 'history' ? (
          <HistoryPage api={api} id={route.id} />
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              There is no page here.{' '}
              <a href="/" onClick={followLink}>
                See all incidents
              </a>
              .
            </p>
          </>
        )}
      </main>
    </>
  );
}

export function initialSession(): SessionResult {
  return storedSession();
}
