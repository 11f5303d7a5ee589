import { scaleFor } from '../axis-scale';
import { localInterval } from '../format';
import type { FactView } from '../types';

const WIDTH = 1000;
const LEFT = 16;
const RIGHT = WIDTH - 16;
const ROW = 18;
const TOP = 12;

function isImprecise(fact: FactView): boolean {
  return fact.uncertain ?? fact.approximate ?? /[?~%]/.test(fact.occurredAt);
}

/** Beside the mark where there is room (right, else left), else inside the bar. */
function labelPlace(x1: number, x2: number): { x: number; anchor: 'start' | 'end'; inside: boolean } {
  const room = 190;
  if (x2 + 8 + room < RIGHT) return { x: x2 + 8, anchor: 'start', inside: false };
  if (x1 - 8 - room > LEFT) return { x: x1 - 8, anchor: 'end', inside: false };
  return { x: x1 + 14, anchor: 'start', inside: true };
}

/**
 * The facts on a hand-drawn SVG time axis: a dot for a date known to the day, a bar across the interval an
 * imprecise date stands for (dashed when the date is uncertain or approximate, an arrow at an open end). The
 * drawing is a picture for sighted readers; the fact list below carries the same content for everyone.
 */
export function TimeAxis({ facts }: { facts: FactView[] }) {
  const scale = scaleFor(
    facts.map((fact) => fact.occurredInterval),
    LEFT,
    RIGHT,
  );
  const height = TOP + facts.length * ROW + 34;
  const axisY = TOP + facts.length * ROW + 8;
  return (
    <figure class="time-axis">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={`Time axis: ${facts.length} facts, each a dot or a bar spanning the uncertainty of its date`}
        preserveAspectRatio="xMidYMin meet"
      >
        {scale.ticks.map((tick) => (
          <g key={tick.label} class="tick">
            <line x1={tick.x} x2={tick.x} y1={TOP - 6} y2={axisY} />
            <text x={tick.x} y={axisY + 18} text-anchor="middle">
              {tick.label}
            </text>
          </g>
        ))}
        <line class="axis" x1={LEFT} x2={RIGHT} y1={axisY} y2={axisY} />
        {facts.map((fact, index) => {
          const mark = scale.mark(fact.occurredInterval);
          const y = TOP + index * ROW + ROW / 2;
          const label = labelPlace(mark.x1, mark.x2);
          const classes = [
            'mark',
            `confidence-${fact.confidence}`,
            fact.retracted ? 'retracted' : '',
            isImprecise(fact) ? 'imprecise' : '',
          ].join(' ');
          return (
            <g key={fact.factId} class={classes}>
              <title>{`${fact.occurredAt} (${localInterval(fact.occurredInterval)}): ${fact.kind}, ${fact.confidence}`}</title>
              {mark.shape === 'point' ? (
                <circle cx={mark.x1} cy={y} r={5.5} />
              ) : (
                <>
                  <rect x={mark.x1} y={y - 5} width={Math.max(mark.x2 - mark.x1, 4)} height={10} rx={3} />
                  {mark.openStart && <path class="open-end" d={`M ${mark.x1 + 1} ${y} l 9 -7 v 14 z`} />}
                  {mark.openEnd && <path class="open-end" d={`M ${mark.x2 - 1} ${y} l -9 -7 v 14 z`} />}
                </>
              )}
              <text
                class={`mark-label ${label.inside ? 'inside' : ''}`}
                x={label.x}
                y={y + 4}
                text-anchor={label.anchor}
              >
                {`${fact.occurredAt} ${fact.kind.replace(/-/g, ' ')}`}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span class="key confidence-confirmed">confirmed</span>
        <span class="key confidence-likely">likely</span>
        <span class="key confidence-possible">possible</span>
        <span class="key confidence-disputed">disputed</span>
        <span class="key imprecise">bar: the date is a range; dashed: uncertain or approximate; arrow: open end</span>
      </figcaption>
    </figure>
  );
}
