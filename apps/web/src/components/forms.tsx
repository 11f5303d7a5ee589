import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import {
  CONFIDENCES,
  FACT_KINDS,
  STATUS_TRANSITIONS,
  type IncidentStatus,
} from '../../../../libs/domain/src/vocabulary';
import { ApiError, type Api, type FieldError } from '../api';
import { humanize } from '../format';
import type { CommandResult, FactView } from '../types';

/** `sources[0].url` and `actors[2]` name the form's `sources.url` and `actors` fields. */
function fieldKey(field: string): string {
  return field.replace(/\[\d+\]/g, '');
}

interface FormProblem {
  detail?: string;
  byField: Map<string, string[]>;
  /** Field errors naming no field of this form. */
  other: FieldError[];
}

function problemFor(error: unknown, fields: readonly string[]): FormProblem {
  if (!(error instanceof ApiError))
    return { detail: 'The service could not be reached.', byField: new Map(), other: [] };
  const byField = new Map<string, string[]>();
  const other: FieldError[] = [];
  for (const item of error.problem.errors ?? []) {
    const key = fieldKey(item.field);
    if (fields.includes(key)) byField.set(key, [...(byField.get(key) ?? []), item.message]);
    else other.push(item);
  }
  return { detail: error.problem.detail ?? error.message, byField, other };
}

function useCommand(fields: readonly string[]) {
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(
    action: () => Promise<CommandResult>,
    success: (result: CommandResult) => string,
  ): Promise<boolean> {
    setBusy(true);
    setDone(null);
    try {
      const result = await action();
      setProblem(null);
      setDone(success(result));
      return true;
    } catch (error) {
      setProblem(problemFor(error, fields));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { problem, done, busy, run };
}

function Field(props: {
  form: string;
  name: string;
  label: string;
  problem: FormProblem | null;
  hint?: string;
  children: (attributes: Record<string, string | boolean | undefined>) => ComponentChildren;
}) {
  const id = `${props.form}-${props.name.replace(/\./g, '-')}`;
  const messages = props.problem?.byField.get(props.name) ?? [];
  const described = [props.hint !== undefined ? `${id}-hint` : '', messages.length > 0 ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div class={messages.length > 0 ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children({
        id,
        name: props.name,
        'aria-invalid': messages.length > 0 ? 'true' : undefined,
        'aria-describedby': described || undefined,
      })}
      {props.hint !== undefined && (
        <span class="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      )}
      {messages.length > 0 && (
        <span class="field-error" id={`${id}-error`} data-field={props.name}>
          {messages.join('; ')}
        </span>
      )}
    </div>
  );
}

function Outcome({ problem, done }: { problem: FormProblem | null; done: string | null }) {
  return (
    <>
      {problem !== null && (
        <div class="form-problem" role="alert">
          <p>{problem.detail}</p>
          {problem.other.length > 0 && (
            <ul>
              {problem.other.map((item, index) => (
                <li key={index}>
                  <code>{item.field}</code> {item.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {done !== null && (
        <p class="form-done" role="status">
          {done}
        </p>
      )}
    </>
  );
}

function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function names(value: string | undefined): string[] | undefined {
  const list = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return list.length > 0 ? list : undefined;
}

const FACT_FIELDS = [
  'kind',
  'occurredAt',
  'summary',
  'confidence',
  'actors',
  'sources.url',
  'sources.title',
  'sources.publisher',
  'sources.publishedAt',
  'assertedAt',
] as const;

export function RecordFactForm({
  api,
  incidentId,
  onDone,
}: {
  api: Api;
  incidentId: string;
  onDone(position: number): void;
}) {
  const { problem, done, busy, run } = useCommand(FACT_FIELDS);
  async function submit(event: Event) {
    event.preventDefault();
    const element = event.currentTarget as HTMLFormElement;
    const form = new FormData(element);
    const url = text(form, 'sources.url');
    const source =
      url === undefined && text(form, 'sources.title') === undefined
        ? undefined
        : {
            url: url ?? '',
            title: text(form, 'sources.title'),
            publisher: text(form, 'sources.publisher'),
            publishedAt: text(form, 'sources.publishedAt'),
          };
    const body = {
      kind: text(form, 'kind'),
      occurredAt: text(form, 'occurredAt') ?? '',
      summary: text(form, 'summary') ?? '',
      confidence: text(form, 'confidence'),
      actors: names(text(form, 'actors')),
      sources: source === undefined ? undefined : [source],
      assertedAt: text(form, 'assertedAt'),
    };
    let position = 0;
    const ok = await run(
      async () => {
        const result = await api.send<CommandResult>('POST', `/v1/incidents/${incidentId}/facts`, body);
        position = result.position;
        return result;
      },
      (result) => `Fact recorded (version ${result.version}).`,
    );
    if (ok) {
      element.reset();
      onDone(position);
    }
  }
  const f = 'record';
  return (
    <form class="write-form" onSubmit={submit} noValidate aria-labelledby="record-title">
      <h3 id="record-title">Record a fact</h3>
      <div class="form-grid">
        <Field form={f} name="kind" label="Kind" problem={problem}>
          {(a) => (
            <select {...a}>
              {FACT_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {humanize(kind)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          form={f}
          name="occurredAt"
          label="Occurred at"
          hint="EDTF: 2023-06-16, 2023-06, 2021~, ../2023-05"
          problem={problem}
        >
          {(a) => <input {...a} type="text" autocomplete="off" />}
        </Field>
        <Field form={f} name="confidence" label="Confidence" problem={problem}>
          {(a) => (
            <select {...a}>
              {CONFIDENCES.map((confidence) => (
                <option key={confidence} value={confidence}>
                  {confidence}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          form={f}
          name="assertedAt"
          label="Asserted at"
          hint="when the claim became public (optional)"
          problem={problem}
        >
          {(a) => <input {...a} type="date" />}
        </Field>
      </div>
      <Field form={f} name="summary" label="Summary" problem={problem}>
        {(a) => <textarea {...a} rows={3} />}
      </Field>
      <Field form={f} name="actors" label="Actors" hint="comma-separated (optional)" problem={problem}>
        {(a) => <input {...a} type="text" autocomplete="off" />}
      </Field>
      <div class="form-grid">
        <Field form={f} name="sources.url" label="Source URL" problem={problem}>
          {(a) => <input {...a} type="url" autocomplete="off" />}
        </Field>
        <Field form={f} name="sources.title" label="Source title" problem={problem}>
          {(a) => <input {...a} type="text" autocomplete="off" />}
        </Field>
        <Field form={f} name="sources.publisher" label="Source publisher" problem={problem}>
          {(a) => <input {...a} type="text" autocomplete="off" />}
        </Field>
        <Field form={f} name="sources.publishedAt" label="Source published at" problem={problem}>
          {(a) => <input {...a} type="date" />}
        </Field>
      </div>
      <button type="submit" disabled={busy}>
        Record fact
      </button>
      <Outcome problem={problem} done={done} />
    </form>
  );
}

const CORRECTION_FIELDS = ['occurredAt', 'summary', 'confidence', 'assertedAt', 'reason'] as const;

export function CorrectFactForm(props: {
  api: Api;
  incidentId: string;
  fact: FactView;
  onDone(position: number): void;
  onCancel(): void;
}) {
  const { problem, done, busy, run } = useCommand(CORRECTION_FIELDS);
  const { fact } = props;
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const changed = (name: 'occurredAt' | 'summary' | 'confidence') => {
      const value = text(form, name);
      return value !== undefined && value !== fact[name] ? value : undefined;
    };
    const body = {
      occurredAt: changed('occurredAt'),
      summary: changed('summary'),
      confidence: changed('confidence'),
      assertedAt: text(form, 'assertedAt'),
      reason: text(form, 'reason') ?? '',
    };
    let position = 0;
    const ok = await run(
      async () => {
        const result = await props.api.send<CommandResult>(
          'PATCH',
          `/v1/incidents/${props.incidentId}/facts/${fact.factId}`,
          body,
        );
        position = result.position;
        return result;
      },
      (result) => `Correction recorded (version ${result.version}).`,
    );
    if (ok) props.onDone(position);
  }
  const f = 'correct';
  return (
    <form class="write-form" onSubmit={submit} noValidate aria-labelledby="correct-title">
      <h3 id="correct-title" tabIndex={-1}>
        Correct the {humanize(fact.kind)} fact of <code>{fact.occurredAt}</code>
      </h3>
      <div class="form-grid">
        <Field form={f} name="occurredAt" label="Occurred at" problem={problem}>
          {(a) => <input {...a} type="text" autocomplete="off" defaultValue={fact.occurredAt} />}
        </Field>
        <Field form={f} name="confidence" label="Confidence" problem={problem}>
          {(a) => (
            <select {...a}>
              {CONFIDENCES.map((confidence) => (
                <option key={confidence} value={confidence} selected={confidence === fact.confidence}>
                  {confidence}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          form={f}
          name="assertedAt"
          label="Asserted at"
          hint="when the correction became public (optional)"
          problem={problem}
        >
          {(a) => <input {...a} type="date" />}
        </Field>
      </div>
      <Field form={f} name="summary" label="Summary" problem={problem}>
        {(a) => <textarea {...a} rows={3} defaultValue={fact.summary} />}
      </Field>
      <Field form={f} name="reason" label="Reason for the correction" problem={problem}>
        {(a) => <input {...a} type="text" autocomplete="off" />}
      </Field>
      <div class="buttons">
        <button type="submit" disabled={busy}>
          Record correction
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <Outcome problem={problem} done={done} />
    </form>
  );
}

const STATUS_FIELDS = ['status', 'effectiveAt', 'reason'] as const;

export function StatusForm(props: {
  api: Api;
  incidentId: string;
  current: string | null;
  onDone(position: number): void;
}) {
  const { problem, done, busy, run } = useCommand(STATUS_FIELDS);
  const allowed = props.current === null ? [] : (STATUS_TRANSITIONS[props.current as IncidentStatus] ?? []);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const body = { status: text(form, 'status'), effectiveAt: text(form, 'effectiveAt'), reason: text(form, 'reason') };
    let position = 0;
    const ok = await run(
      async () => {
        const result = await props.api.send<CommandResult>('POST', `/v1/incidents/${props.incidentId}/status`, body);
        position = result.position;
        return result;
      },
      (result) => `Status changed (version ${result.version}).`,
    );
    if (ok) props.onDone(position);
  }
  const f = 'status';
  return (
    <form class="write-form" onSubmit={submit} noValidate aria-labelledby="status-title">
      <h3 id="status-title">Change status</h3>
      <div class="form-grid">
        <Field form={f} name="status" label="New status" hint={`now ${props.current ?? 'none'}`} problem={problem}>
          {(a) => (
            <select {...a}>
              {(allowed.length > 0 ? allowed : ['investigating', 'contained', 'resolved', 'detected']).map((status) => (
                <option key={status} value={status}>
                  {status}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field form={f} name="effectiveAt" label="Effective at" hint="defaults to now" problem={problem}>
          {(a) => <input {...a} type="date" />}
        </Field>
        <Field form={f} name="reason" label="Reason" problem={problem}>
          {(a) => <input {...a} type="text" autocomplete="off" />}
        </Field>
      </div>
      <button type="submit" disabled={busy}>
        Change status
      </button>
      <Outcome problem={problem} done={done} />
    </form>
  );
}
