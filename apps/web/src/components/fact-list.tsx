import { humanize, localDate, localInterval } from '../format';
import type { FactView, Source } from '../types';

/** Only http(s) sources become links; anything else is shown as text. */
function safeHref(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function SourceItem({ source }: { source: Source }) {
  const href = safeHref(source.url);
  const label = source.title ?? source.url;
  return (
    <li>
      {href === undefined ? (
        <span>{label}</span>
      ) : (
        <a href={href} rel="noopener noreferrer" target="_blank">
          {label}
        </a>
      )}
      {source.publisher !== undefined && <span class="muted"> · {source.publisher}</span>}
      {source.publishedAt !== undefined && <span class="muted"> · {localDate(source.publishedAt)}</span>}
    </li>
  );
}

interface Props {
  facts: FactView[];
  /** Offered to users who may write: opens the correction form for a fact. */
  onCorrect?: (fact: FactView) => void;
}

/** The timeline as a list: one item per fact, with its date as written, kind, summary, confidence and sources. */
export function FactList({ facts, onCorrect }: Props) {
  if (facts.length === 0) return <p class="empty">No facts in view at this point in time.</p>;
  return (
    <ol class="fact-list" aria-label="Facts in timeline order">
      {facts.map((fact) => (
        <li
          role="listitem"
          key={fact.factId}
          id={`fact-${fact.factId}`}
          class={fact.retracted ? 'fact retracted' : 'fact'}
        >
          <div class="fact-head">
            <span class="fact-date">
              <code class="edtf">{fact.occurredAt}</code>
              <span class="muted"> {localInterval(fact.occurredInterval)}</span>
            </span>
            <span class="fact-kind">{humanize(fact.kind)}</span>
            <span class={`confidence confidence-${fact.confidence}`}>{fact.confidence}</span>
            {fact.corrected && <span class="flag corrected">corrected</span>}
            {fact.amended === true && <span class="flag amended">amended</span>}
            {fact.retracted && <span class="flag retracted">retracted</span>}
            {fact.settled !== undefined && <span class="flag">{fact.settled ? 'settled' : 'not settled'}</span>}
          </div>
          <p class="fact-summary">{fact.summary}</p>
          {fact.actors.length > 0 && <p class="fact-actors">Actors: {fact.actors.join(', ')}</p>}
          {fact.retraction !== null && <p class="fact-note">Retracted: {fact.retraction.reason}</p>}
          {fact.corrections.length > 0 && (
            <p class="fact-note">
              Corrected{' '}
              {fact.corrections
                .map((c) => `${c.assertedAt === undefined ? '' : `${localDate(c.assertedAt)}: `}${c.reason}`)
                .join('; ')}
            </p>
          )}
          {fact.sources.length > 0 && (
            <ul class="sources" aria-label="Sources">
              {fact.sources.map((source, index) => (
                <SourceItem key={index} source={source} />
              ))}
            </ul>
          )}
          <p class="muted small">
            Asserted {localDate(fact.assertedAt)} · recorded {localDate(fact.recordedAt)}
          </p>
          {onCorrect !== undefined && !fact.retracted && (
            <button type="button" class="secondary small" onClick={() => onCorrect(fact)}>
              Correct this fact
            </button>
          )}
        </li>
      ))}
    </ol>
  );
}
