import { useState } from 'preact/hooks';
import { sessionOf, type Session } from '../session';

/** Shown without a token, or after the token expired or was refused: paste a token, nothing else. */
export function SignIn({ message, onSignIn }: { message?: string; onSignIn(session: Session): void }) {
  const [problem, setProblem] = useState<string | undefined>(undefined);
  function submit(event: Event) {
    event.preventDefault();
    const value = new FormData(event.currentTarget as HTMLFormElement).get('token');
    const result = sessionOf(typeof value === 'string' ? value : '');
    if (result.session === null) setProblem(result.message);
    else onSignIn(result.session);
  }
  return (
    <section class="sign-in panel" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {message !== undefined && (
        <p class="form-problem" role="alert">
          {message}
        </p>
      )}
      <p>
        Open the link printed by <code>npm run -s token -- --scopes incidents:read --sub alice --url</code>, or paste a
        bearer token here. It is kept in this tab only (session storage) and sent only as an Authorization header.
      </p>
      <form onSubmit={submit} noValidate>
        <div class={problem === undefined ? 'field' : 'field invalid'}>
          <label for="token">Bearer token</label>
          <textarea
            id="token"
            name="token"
            rows={4}
            spellcheck={false}
            autocomplete="off"
            aria-invalid={problem === undefined ? undefined : 'true'}
            aria-describedby={problem === undefined ? undefined : 'token-error'}
          />
          {problem !== undefined && (
            <span class="field-error" id="token-error">
              {problem}
            </span>
          )}
        </div>
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
