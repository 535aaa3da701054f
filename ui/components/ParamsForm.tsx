// A form field per ParamSpec, chosen by its type and its widget hint (never by its name): number/integer → slider +
// number box (widget 'seed': number box + dice), choice → segmented buttons (or a select when there are many),
// boolean → checkbox, string → text field (widget 'prompt': a text box that wraps). The `scale` param (a contract
// name, ParamSpec) is limited by what fits.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { ParamValue, Params } from '../../worker/job.ts';
import type { ParamSpec } from '../../worker/tasks/task.ts';
import type { ScaleFit } from '../format.ts';
import { randomSeed } from '../../worker/random.ts';
import { LabelRow, useToggle } from './InfoButton.tsx';

const SEGMENTED_MAX = 4;

interface FieldProps {
  spec: ParamSpec;
  value: ParamValue;
  /** `moving`: a slider is being dragged (a release follows as onCommit). */
  onChange(value: ParamValue, moving?: boolean): void;
  onCommit?(): void;
  disabled: boolean;
  /** Only for the `scale` param: which values fit the host. */
  fit?: ScaleFit;
  hint?: ParamHint;
}

/** Lines always shown under a param (e.g. how long each quality takes here), and a tooltip per choice. */
export interface ParamHint {
  lines?: string[];
  choices?: Record<string, string>;
}

function Field({ spec, value, onChange, onCommit, disabled, fit, hint }: FieldProps) {
  const id = `param-${spec.name}`;
  const [open, toggle] = useToggle();
  // The param's explanation is folded behind an info button next to its label.
  const help = spec.help ? <p class="help" id={`${id}-help`} data-testid={`${id}-help`} hidden={!open}>{spec.help}</p> : null;
  const info = spec.help ? { open, onToggle: toggle, controls: `${id}-help`, about: spec.label, testId: `${id}-info` } : undefined;
  const describedBy = spec.help ? `${id}-help` : undefined;
  const hintLine = hint?.lines?.length ? (
    <p class="help hint" data-testid={`${id}-hint`}>{hint.lines.map((line, i) => <span key={i} class="hint-line">{line}</span>)}</p>
  ) : null;
  switch (spec.type) {
    case 'number':
    case 'integer':
      if (spec.widget === 'seed') return <SeedField spec={spec} value={Number(value)} onChange={onChange} disabled={disabled} help={help} info={info} describedBy={describedBy} />;
      return <NumberField spec={spec} value={Number(value)} onChange={onChange} onCommit={onCommit} disabled={disabled} help={help} info={info} describedBy={describedBy} />;
    case 'choice': {
      if (spec.choices.length > SEGMENTED_MAX) {
        return (
          <div class="field">
            <LabelRow info={info}><label class="field-label" for={id}>{spec.label}</label></LabelRow>
            <select id={id} data-testid={id} disabled={disabled} aria-describedby={describedBy}
              onChange={(e) => onChange(spec.choices[e.currentTarget.selectedIndex].value)}>
              {spec.choices.map((c) => (
                <option key={String(c.value)} value={String(c.value)} selected={String(c.value) === String(value)}
                  disabled={fit ? !fit.fits(Number(c.value)) : false}>{c.label}</option>
              ))}
            </select>
            {fit?.note && <p class="help warn">{fit.note}</p>}
            {hintLine}
            {help}
          </div>
        );
      }
      return (
        <div class="field">
          <LabelRow info={info}><span class="field-label" id={`${id}-label`}>{spec.label}</span></LabelRow>
          <div class="segmented" role="radiogroup" aria-labelledby={`${id}-label`} aria-describedby={describedBy} data-testid={id}>
            {spec.choices.map((c) => {
              const selected = String(c.value) === String(value);
              const fits = fit ? fit.fits(Number(c.value)) : true;
              return (
                <button key={String(c.value)} type="button" role="radio" aria-checked={selected} class={`seg${selected ? ' selected' : ''}${fits ? '' : ' unfit'}`}
                  data-testid={`${id}-${c.value}`} disabled={disabled || !fits}
                  title={fits ? hint?.choices?.[String(c.value)] : fit?.note} onClick={() => onChange(c.value)}>{c.label}</button>
              );
            })}
          </div>
          {fit?.note && <p class="help warn" data-testid={`${id}-note`}>{fit.note}</p>}
          {hintLine}
          {help}
        </div>
      );
    }
    case 'boolean':
      return (
        <div class="field">
          <LabelRow info={info}>
            <label class="checkbox">
              <input type="checkbox" id={id} data-testid={id} checked={Boolean(value)} disabled={disabled}
                aria-describedby={describedBy} onChange={(e) => onChange(e.currentTarget.checked)} />
              {spec.label}
            </label>
          </LabelRow>
          {hintLine}
          {help}
        </div>
      );
    case 'string':
      return (
        <div class="field">
          <LabelRow info={info}><label class="field-label" for={id}>{spec.label}</label></LabelRow>
          {spec.widget === 'prompt' ? (
            // Long text (a prompt) wraps; Ctrl/⌘+Enter still runs.
            <textarea id={id} data-testid={id} rows={3} maxLength={spec.maxLength} value={String(value)} disabled={disabled}
              aria-describedby={describedBy} onInput={(e) => onChange(e.currentTarget.value)} />
          ) : (
            <input type="text" id={id} data-testid={id} maxLength={spec.maxLength} value={String(value)} disabled={disabled}
              aria-describedby={describedBy} onInput={(e) => onChange(e.currentTarget.value)} />
          )}
          {hintLine}
          {help}
        </div>
      );
  }
}

type NumberSpec = Extract<ParamSpec, { type: 'number' | 'integer' }>;
type Info = Parameters<typeof LabelRow>[0]['info'];

/** Slider + number box. The box keeps what is typed ("0.", "") until it parses to an allowed value. */
function NumberField(props: { spec: NumberSpec; value: number; onChange(v: number, moving?: boolean): void; onCommit?(): void; disabled: boolean; help: ComponentChildren; info?: Info; describedBy?: string }) {
  const { spec, value } = props;
  const id = `param-${spec.name}`;
  const [text, setText] = useState(String(value));
  useEffect(() => {
    if (Number(text) !== value) setText(String(value));
  }, [value]);
  const step = spec.step ?? (spec.type === 'integer' ? 1 : (spec.max - spec.min) / 100);
  const parse = (raw: string): number | null => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < spec.min || n > spec.max) return null;
    if (spec.type === 'integer' && !Number.isInteger(n)) return null;
    return n;
  };
  const invalid = parse(text) === null;
  return (
    <div class="field">
      <LabelRow info={props.info}><label class="field-label" for={id}>{spec.label}</label></LabelRow>
      <div class="slider-row">
        <input type="range" aria-label={`${spec.label} slider`} data-testid={`${id}-slider`} min={spec.min} max={spec.max} step={step}
          value={value} disabled={props.disabled} onInput={(e) => {
            const n = Number(e.currentTarget.value);
            setText(String(n));
            props.onChange(n, true);
          }}
          onChange={() => props.onCommit?.()} />
        <input type="number" id={id} data-testid={id} class="number" min={spec.min} max={spec.max} step={step}
          value={text} disabled={props.disabled} aria-invalid={invalid} aria-describedby={invalid ? `${id}-range` : props.describedBy}
          onInput={(e) => {
            const raw = e.currentTarget.value;
            setText(raw);
            const n = parse(raw);
            if (n !== null) props.onChange(n);
          }}
          onBlur={() => setText(String(value))} />
      </div>
      {invalid && (
        <p class="help error-text" id={`${id}-range`}>
          {spec.type === 'integer' ? 'A whole number' : 'A number'} from {spec.min} to {spec.max}; using {value}.
        </p>
      )}
      {props.help}
    </div>
  );
}

/** A seed: a number box and a dice button (a slider over 4 billion values would be no use). */
function SeedField(props: { spec: NumberSpec; value: number; onChange(v: number): void; disabled: boolean; help: ComponentChildren; info?: Info; describedBy?: string }) {
  const { spec, value } = props;
  const id = `param-${spec.name}`;
  const [text, setText] = useState(String(value));
  useEffect(() => {
    if (Number(text) !== value) setText(String(value));
  }, [value]);
  const valid = (n: number) => Number.isInteger(n) && n >= spec.min && n <= spec.max;
  return (
    <div class="field">
      <LabelRow info={props.info}><label class="field-label" for={id}>{spec.label}</label></LabelRow>
      <div class="slider-row">
        <input type="number" id={id} data-testid={id} class="number seed" min={spec.min} max={spec.max} step={1} value={text} disabled={props.disabled}
          aria-invalid={!valid(Number(text))} aria-describedby={props.describedBy}
          onInput={(e) => {
            const raw = e.currentTarget.value;
            setText(raw);
            if (raw.trim() !== '' && valid(Number(raw))) props.onChange(Number(raw));
          }}
          onBlur={() => setText(String(value))} />
        <button type="button" class="secondary small" data-testid={`${id}-dice`} disabled={props.disabled} title="A new random seed"
          aria-label="Roll a new random seed" onClick={() => props.onChange(randomSeed() % (spec.max + 1))}>
          <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" style={{ verticalAlign: '-2px' }}>
            <rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="none" stroke="currentColor" stroke-width="1.4" />
            <circle cx="5" cy="5" r="1.3" fill="currentColor" /><circle cx="11" cy="11" r="1.3" fill="currentColor" /><circle cx="8" cy="8" r="1.3" fill="currentColor" />
          </svg>
        </button>
      </div>
      {props.help}
    </div>
  );
}

export function ParamsForm(props: {
  specs: ParamSpec[];
  values: Params;
  /** `moving`: from a slider being dragged; its release calls onCommit. */
  onChange(name: string, value: ParamValue, moving?: boolean): void;
  onCommit?(name: string): void;
  disabled: boolean;
  scaleFit?: ScaleFit;
  /** Per param name: a line to show under it and tooltips for its choices. */
  hints?: Record<string, ParamHint>;
}) {
  return (
    <>
      {props.specs.map((spec) => (
        <Field key={spec.name} spec={spec} value={props.values[spec.name] ?? spec.default} disabled={props.disabled}
          fit={spec.name === 'scale' ? props.scaleFit : undefined} hint={props.hints?.[spec.name]} onChange={(v, moving) => props.onChange(spec.name, v, moving)}
          onCommit={() => props.onCommit?.(spec.name)} />
      ))}
    </>
  );
}
