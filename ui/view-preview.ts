// Live preview for tasks that render a view (rotate-view): while a slider moves, a small render (32 px) follows it;
// when the slider is let go, the chosen size renders. Latest wins: a change while a render runs cancels it, and
// only the newest request renders next. Nothing is placed: Run places — and a full-size preview of exactly what Run
// would make is Run's result (`take`): finished, it is placed at once; still rendering, Run follows it to the end
// instead of cancelling it and starting the same render again.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Job, JobResult, Params, Progress, ResultMeta, Target } from '../worker/job.ts';
import type { EngineClient } from './engine-client.ts';

export const PREVIEW_SIZE = 32;

export interface ViewPreview {
  url: string;
  size: number;
  ms: number;
}

export interface PreviewRequest {
  task: string;
  model?: string;
  params: Params;
  sources: ResultMeta[];
  target: Target;
  /** Full size (the slider was released) or the quick small render (it is moving). */
  full: boolean;
  /** Changes when the models change (an installed model may now be the automatic choice): older renders are stale. */
  modelsKey?: string;
  /** The params that change the view (the task's TaskDisplay.preview): moving one of these re-renders the preview;
   *  `size` does too. */
  viewParams: string[];
}

/** Run's result taken from the preview: the engine job that makes (or made) it, and the result. */
export interface TakenPreview {
  jobId: string;
  result: Promise<JobResult>;
}

let previewCounter = 0;

/** What makes one preview differ from another: the task, model, target, sources, the view params and the size. */
function keyOf(request: PreviewRequest): string {
  return JSON.stringify({ ...request, params: Object.fromEntries(Object.entries(request.params).filter(([k]) => request.viewParams.includes(k) || k === 'size')) });
}

export function useViewPreview(engine: EngineClient, request: PreviewRequest | null): {
  preview: ViewPreview | null;
  busy: boolean;
  error: string | null;
  /** Run's result for `request` when the preview makes exactly that (frames 1, full size), else null. */
  take(request: PreviewRequest, onProgress: (p: Progress) => void): TakenPreview | null;
} {
  const [preview, setPreview] = useState<ViewPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const running = useRef<string | null>(null);
  /** The full-size render in flight (and whether Run took it), and the last one finished. */
  const inFlight = useRef<{ key: string; id: string; result: Promise<JobResult>; taken: boolean } | null>(null);
  const rendered = useRef<{ key: string; result: JobResult } | null>(null);
  const listener = useRef<((p: Progress) => void) | null>(null);
  /** The in-flight render's latest progress: Run shows where it has got to the moment it takes it over. */
  const lastProgress = useRef<Progress | null>(null);
  const pending = useRef<PreviewRequest | null>(null);
  /** The request the current preview shows: coming back to it (e.g. after a Run) renders nothing again. */
  const shown = useRef('');
  const lastKey = useRef('');
  const key = request ? keyOf(request) : '';

  useEffect(() => {
    if (!request) {
      // Run started (or another task was chosen): a preview in flight would only hold the engine up, and the Run
      // renders the very view it was showing — so coming back to it afterwards renders nothing again.
      if (lastKey.current) shown.current = lastKey.current;
      pending.current = null;
      if (running.current && !inFlight.current?.taken) void engine.cancel(running.current, { hard: false });
      return;
    }
    lastKey.current = key;
    if (key === shown.current && !running.current) return;
    pending.current = request;
    if (running.current) {
      // Soft: the render stops at its next tile; terminating the worker would drop the loaded model.
      void engine.cancel(running.current, { hard: false }); // the newer request renders as soon as this one stops
      return;
    }
    void pump();
  }, [key]); // `key` is the request's identity: a new object with the same content renders nothing new

  useEffect(() => () => setPreview((p) => (p && URL.revokeObjectURL(p.url), null)), []);

  async function pump(): Promise<void> {
    while (pending.current) {
      const req = pending.current;
      pending.current = null;
      const id = `preview-${++previewCounter}`;
      running.current = id;
      setBusy(true);
      const reqKey = keyOf(req);
      const size = req.full ? Number(req.params.size ?? PREVIEW_SIZE) : PREVIEW_SIZE;
      const started = Date.now();
      try {
        const job: Job = { id, task: req.task, ...(req.model ? { model: req.model } : {}), params: { ...req.params, size, frames: 1 }, ...(req.sources.length ? { sources: req.sources } : {}), target: req.target };
        lastProgress.current = null;
        const pendingResult = engine.run(job, (p) => {
          lastProgress.current = p;
          listener.current?.(p);
        });
        if (req.full) inFlight.current = { key: reqKey, id, result: pendingResult, taken: false };
        const result = await pendingResult;
        if (req.full) rendered.current = { key: reqKey, result };
        const png = await engine.encodePng(result.images[0]);
        const url = URL.createObjectURL(new Blob([png as BlobPart], { type: 'image/png' }));
        setPreview((old) => {
          if (old) URL.revokeObjectURL(old.url);
          return { url, size, ms: Date.now() - started };
        });
        shown.current = reqKey;
        setError(null);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'cancelled') setError(err instanceof Error ? err.message : String(err));
      } finally {
        running.current = null;
        inFlight.current = null;
        listener.current = null;
      }
    }
    setBusy(false);
  }

  const take = useCallback((req: PreviewRequest, onProgress: (p: Progress) => void): TakenPreview | null => {
    if (Number(req.params.frames ?? 1) !== 1) return null; // a turntable is more than the preview's one view
    const key = keyOf({ ...req, full: true });
    if (rendered.current?.key === key) return { jobId: `${rendered.current.result.jobId}-placed`, result: Promise.resolve(rendered.current.result) };
    const flight = inFlight.current;
    if (flight?.key !== key) return null;
    flight.taken = true;
    listener.current = onProgress;
    if (lastProgress.current) onProgress(lastProgress.current);
    return { jobId: flight.id, result: flight.result };
  }, []);

  return { preview, busy, error, take };
}
