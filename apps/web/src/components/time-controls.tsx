import { localDate } from '../format';

export type TimeAxisName = 'knownAt' | 'asOf' | 'validAt';
export type PointInTime = Partial<Record<TimeAxisName, string>>;

const AXES: { name: TimeAxisName; label: string; hint: string }[] = [
  { name: 'knownAt', label: 'Known at', hint: 'what was publicly known then' },
  { name: 'asOf', label: 'As of', hint: 'what this record said then' },
  { name: 'validAt', label: 'Valid at', hint: 'what had happened by then' },
];

export function pointInTimeOf(search: URLSearchParams): PointInTime {
  const at: PointInTime = {};
  for (const { name } of AXES) {
    const value = search.get(name);
    if (value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value)) at[name] = value;
  }
  return at;
}

/** `?knownAt=...&asOf=...` for links that keep the point in time. */
export function timeSearch(at: PointInTime): string {
  const params = new URLSearchParams();
  for (const { name } of AXES) if (at[name] !== undefined) params.set(name, at[name]);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

interface Props {
  at: PointInTime;
  onChange(changes: PointInTime): void;
  /** Days on which public knowledge of the incident changed, oldest first; the slider steps through them. */
  knowledgeDates?: string[];
}

/** The three time axes as date inputs, and a slider over the days public knowledge changed. */
export function TimeControls({ at, onChange, knowledgeDates }: Props) {
  const dates = knowledgeDates ?? [];
  const sliderIndex = at.knownAt === undefined ? dates.length : stepAt(dates, at.knownAt);
  return (
    <fieldset class="time-controls">
      <legend>Point in time</legend>
      <div class="time-inputs">
        {AXES.map(({ name, label, hint }) => (
          <div class="field" key={name}>
            <label for={`at-${name}`}>{label}</label>
            <input
              id={`at-${name}`}
              type="date"
              value={at[name] ?? ''}
              aria-describedby={`at-${name}-hint`}
              onChange={(event) => onChange({ [name]: (event.currentTarget as HTMLInputElement).value || undefined })}
            />
            <span class="hint" id={`at-${name}-hint`}>
              {hint}
            </span>
          </div>
        ))}
        <button
          type="button"
          class="secondary"
          disabled={at.knownAt === undefined && at.asOf === undefined && at.validAt === undefined}
          onClick={() => onChange({ knownAt: undefined, asOf: undefined, validAt: undefined })}
        >
          Back to now
        </button>
      </div>
      {dates.length > 0 && (
        <div class="knowledge-slider">
          <label for="knowledge-step">Public knowledge changed on</label>
          <input
            id="knowledge-step"
            type="range"
            min={0}
            max={dates.length}
            step={1}
            value={sliderIndex}
            aria-valuetext={sliderIndex >= dates.length ? 'now' : localDate(dates[sliderIndex])}
            onInput={(event) => {
              const index = Number((event.currentTarget as HTMLInputElement).value);
              onChange({ knownAt: index >= dates.length ? undefined : dates[index] });
            }}
          />
          <output for="knowledge-step">
            {sliderIndex >= dates.length ? 'now' : `${dates[sliderIndex]} (${sliderIndex + 1} of ${dates.length})`}
          </output>
        </div>
      )}
    </fieldset>
  );
}

/** The last knowledge step on or before a day, or 0 before the first. */
function stepAt(dates: string[], day: string): number {
  let index = 0;
  for (const [i, date] of dates.entries()) if (date <= day) index = i;
  return index;
}
