// The panel's model: its state (host, engine, task and settings, the running job, the queue, the last outcome) and the
// actions on it. Components read the state through useStore and call these actions; ui/app.tsx lays them out and wires
// the host's and the engine's events here. The host is reached only through HostClient, the engine only through
// EngineClient.
import { DEFAULT_SETTINGS } from '../plugin/messages.ts';
import type { HostInfo, SelectionSummary, Settings, UiMessage } from '../plugin/messages.ts';
import type { Capabilities, ModelStatus } from '../worker/engine-api.ts';
import type { ErrorCode, Params, ParamValue, Progress } from '../worker/job.ts';
import type { Target } from '../worker/job.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';
import { isGenerator, runBatch } from './batch.ts';
import type { BatchProgress, ItemResult } from './batch.ts';
import { clipSource } from './clip.ts';
import { choiceKey, CostBook, tileSpecOf } from './cost.ts';
import { toEngineError } from './engine-client.ts';
import type { EngineClient, EngineState } from './engine-client.ts';
import { finishNotice, panelOutOfSight } from './finish-notice.ts';
import { firstFramePng } from './first-frame.ts';
import { describeTargetChoice, describeTargetProblem, modelName } from './format.ts';
import type { HistoryEntry } from './history.ts';
import { resultWords } from './history.ts';
import type { HostClient } from './host-client.ts';
import { queued, takeNext, withoutJob } from './queue.ts';
import type { JobSpec } from './queue.ts';
import { Store } from './store/store.ts';
import { paramsFor, targetFor } from './store/view.ts';
import type { TakenPreview, PreviewRequest } from './view-preview.ts';
import type { PairingState } from './components/PairingPrompt.tsx';
import type { TargetStatus } from './components/TargetPicker.tsx';

export interface Problem {
  code?: ErrorCode;
  message: string;
  tone: 'error' | 'neutral';
  /** A run's failure: it belongs to that run's task, and goes when another task is chosen. */
  fromRun?: boolean;
}

export type Boot = { phase: 'waiting-host' | 'starting' | 'ready' } | { phase: 'failed'; problem: Problem };

/** What the footer's bar shows: a batch's progress, or the moment before its first report. */
export type Shown = Pick<BatchProgress, 'text' | 'fraction'> & Partial<BatchProgress>;

export interface PanelState {
  hostInfo: HostInfo | null;
  settings: Settings;
  selection: SelectionSummary;
  boot: Boot;
  /** The host has not answered ui-ready for 5 s. */
  hostSilent: boolean;
  engineState: EngineState;
  caps: Capabilities | null;
  tasks: TaskInfo[];
  models: ModelStatus[];
  taskId: string;
  /** Settings changed in this session, per task (over the defaults and the last run's). */
  paramsByTask: Record<string, Params>;
  /** The model chosen by hand ('' for Automatic). */
  modelId: string;
  targetStatus: TargetStatus | null;
  /** The job running now (null: none), its progress and whether Cancel was pressed. */
  running: JobSpec | null;
  progress: Shown | null;
  cancelling: boolean;
  /** Jobs set up while another ran, in the order they run. */
  queue: JobSpec[];
  problem: Problem | null;
  result: ItemResult | null;
  modelsBusy: boolean;
  /** The server asks for its pairing code (null: it does not, or the user said "not now" this session). */
  pairing: PairingState | null;
  /** Rotate view: the chosen size renders (a slider was let go), not the small live preview. */
  previewFull: boolean;
  /** Bumped to ask again whether the results are still in the document (after Show). */
  presenceRecheck: number;
}

/** What the model needs from the view's own hooks (the Results list, Rotate view's preview renders). */
export interface RunHooks {
  addToHistory(result: ItemResult, task: TaskInfo, params: Params, model: string): void;
  takePreview(request: PreviewRequest, onProgress: (p: Progress) => void): TakenPreview | null;
}

// plugin/messages.ts types 'ui-ready' as Record<string, never>, which intersects `type` to never: cast once here.
const UI_READY: UiMessage = { type: 'ui-ready' };

/** After this long without init, the status line says the host is not answering. */
const HOST_SILENT_MS = 5_000;
/** A target check that failed (the server not answering its probe yet) is asked again after this long. */
const TARGET_RECHECK_MS = 3_000;

export function asProblem(err: unknown): Problem {
  const code = err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: ErrorCode }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return { code, message, tone: code === 'cancelled' ? 'neutral' : 'error' };
}

export function applyTheme(mode: 'light' | 'dark'): void {
  const root = document.documentElement;
  root.classList.toggle('theme-dark', mode === 'dark');
  root.classList.toggle('theme-light', mode === 'light');
}

export class PanelModel {
  readonly store: Store<PanelState>;
  /** How long runs took here, per model and target: the time hints next to Run and the quality choices. */
  readonly costs = new CostBook();
  hooks: RunHooks = { addToHistory: () => undefined, takePreview: () => null };
  private bootGeneration = 0;
  private pairingDismissed = false;
  private cancelRequested = false;
  private currentJob: string | null = null;
  private jobCount = 0;
  /** Warm-ups asked of this engine worker, by what they were asked for (a new worker starts cold: cleared). */
  private readonly warmUpsAsked = new Set<string>();
  private warmUpDue = false;

  constructor(readonly host: HostClient, readonly engine: EngineClient) {
    this.store = new Store<PanelState>({
      hostInfo: null, settings: DEFAULT_SETTINGS, selection: { items: [] }, boot: { phase: 'waiting-host' }, hostSilent: false,
      engineState: engine.state, caps: null, tasks: [], models: [], taskId: '', paramsByTask: {}, modelId: '', targetStatus: null,
      running: null, progress: null, cancelling: false, queue: [], problem: null, result: null, modelsBusy: false, pairing: null,
      previewFull: true, presenceRecheck: 0,
    });
  }

  get state(): PanelState {
    return this.store.state;
  }

  private set(patch: Partial<PanelState> | ((s: PanelState) => Partial<PanelState>)): void {
    this.store.set(patch);
  }

  /** Listens to the host and the engine; `ui-ready` goes out once the handlers are in place, so `init` cannot be missed.
   *  A host that never answers (UI opened outside a host, or the host crashed) must not look like loading. */
  connect(): () => void {
    const silent = setTimeout(() => this.set((s) => (s.boot.phase === 'waiting-host' ? { hostSilent: true } : {})), HOST_SILENT_MS);
    const offs = [
      this.engine.onState((engineState) => {
        if (engineState === 'starting') this.warmUpsAsked.clear();
        this.set({ engineState });
      }),
      this.store.subscribe(() => this.scheduleWarmUp()),
      this.host.on('init', (msg) => {
        clearTimeout(silent);
        this.set({ hostInfo: msg.host, settings: msg.settings, selection: msg.selection });
        void this.startEngine(msg.settings);
      }),
      this.host.on('selection-changed', (msg) => this.set({ selection: msg.selection })),
      this.host.on('theme', (msg) => applyTheme(msg.mode)),
    ];
    this.host.send(UI_READY);
    return () => {
      clearTimeout(silent);
      offs.forEach((off) => off());
    };
  }

  /** (Re)starts the engine for `s` and loads tasks and models; a newer start makes an older one's outcome moot. */
  async startEngine(s: Settings): Promise<void> {
    const generation = ++this.bootGeneration;
    this.set({ boot: { phase: 'starting' } });
    try {
      const capabilities = await this.engine.init({ modelBaseUrl: s.serverUrl.replace(/\/+$/, ''), ...(s.token ? { token: s.token } : {}) });
      const [tasks, models] = await Promise.all([this.engine.tasks(), this.engine.models()]);
      if (generation !== this.bootGeneration) return;
      this.set((prev) => ({
        caps: capabilities, tasks, models, boot: { phase: 'ready' },
        taskId: tasks.some((t) => t.id === prev.taskId) ? prev.taskId : (tasks[0]?.id ?? ''),
      }));
      // Does the server take our pairing code? Asked without its model list: that would load every model there.
      const access = await this.engine.testServer(s.serverUrl.replace(/\/+$/, ''), s.token, { models: false }).catch(() => null);
      if (generation !== this.bootGeneration) return;
      this.set({ pairing: access?.pairing && !(this.pairingDismissed && access.pairing === 'needed') ? { state: access.pairing, hint: access.pairingHint } : null });
    } catch (err) {
      if (generation !== this.bootGeneration) return;
      this.set({ boot: { phase: 'failed', problem: asProblem(err) } });
    }
  }

  restartEngine = (): void => void this.startEngine(this.state.settings);

  /** Reloads model statuses; `quiet` keeps a failure from replacing the message the user is reading. */
  async refreshModels(quiet = false, reload = false): Promise<void> {
    try {
      this.set({ models: await this.engine.models(reload ? { reload } : undefined) });
    } catch (err) {
      if (!quiet) this.set({ problem: asProblem(err) });
    }
  }

  /** An official model was installed or removed: the engine's list again, and a task that had its test model chosen by
   *  hand goes back to Automatic (which prefers the real model). */
  async registryChanged({ installed }: { installed?: string[] }): Promise<void> {
    try {
      this.set({ models: await this.engine.models({ reload: true }) });
    } catch (err) {
      this.set({ problem: asProblem(err) });
    }
    if (installed?.length) this.set((s) => (s.modelId.endsWith('-tiny') && installed.includes(s.modelId.replace(/-tiny$/, '')) ? { modelId: '' } : {}));
  }

  chooseTask = (taskId: string): void => {
    this.set((s) => ({ taskId, modelId: '', result: null, problem: s.problem?.fromRun ? null : s.problem }));
  };

  /** Changes settings of the current task; `moving`: a slider still held (Rotate view renders small meanwhile). */
  setParams = (values: Params, moving = false): void => {
    const { taskId } = this.state;
    if (!taskId) return;
    this.set((s) => ({ paramsByTask: { ...s.paramsByTask, [taskId]: { ...s.paramsByTask[taskId], ...values } }, previewFull: !moving }));
  };

  setParam = (name: string, value: ParamValue, moving = false): void => this.setParams({ [name]: value }, moving);

  /** A slider was let go: the chosen size renders. */
  commitParams = (): void => this.set({ previewFull: true });

  setModel = (modelId: string): void => this.set({ modelId });

  setTarget = (chosen: Target): void => {
    const { settings, taskId } = this.state;
    this.saveSettings({ ...settings, targets: { ...settings.targets, [taskId]: chosen } });
  };

  saveSettings = (next: Settings): void => {
    // Until the host's settings arrive (init), `settings` are the defaults: saving them would write the defaults over
    // the designer's stored server and pairing code. Controls that save are disabled until then; this is the backstop.
    const { hostInfo, settings } = this.state;
    if (!hostInfo) return;
    const reconnect = next.serverUrl !== settings.serverUrl || next.token !== settings.token;
    this.set({ settings: next });
    this.host.send({ type: 'save-settings', settings: next });
    if (reconnect) void this.startEngine(next);
  };

  pair = (code: string): void => this.saveSettings({ ...this.state.settings, token: code });

  dismissPairing = (): void => {
    this.pairingDismissed = true;
    this.set({ pairing: null });
  };

  dismissProblem = (): void => this.set({ problem: null });
  dismissResult = (): void => this.set({ result: null });

  clearModels = async (ids?: string[]): Promise<void> => {
    this.set({ modelsBusy: true });
    try {
      await this.engine.clearModels(ids);
    } catch (err) {
      this.set({ problem: asProblem(err) });
    } finally {
      this.set({ modelsBusy: false });
      void this.refreshModels();
    }
  };

  /** A Results entry's "Use these settings": its task, its settings and the model chosen for it (Automatic if none). */
  applySettingsOf = (entry: HistoryEntry): void => {
    const s = this.state;
    if (s.running || !s.tasks.some((t) => t.id === entry.taskId)) return;
    this.set({
      ...(entry.taskId !== s.taskId ? { result: null } : {}),
      taskId: entry.taskId, modelId: entry.model ?? '', paramsByTask: { ...s.paramsByTask, [entry.taskId]: { ...entry.params } },
    });
  };

  /** Explains where the current task/model would run; a forced target that cannot work blocks Run. A check that failed
   *  (the server not answering its 3 s probe yet: starting, or busy) is asked again a few seconds later, so the line
   *  follows the server instead of keeping an answer that no longer holds. Returns the check's cancel. */
  checkTarget(params: Params, requested: Target, serverOnly: boolean): () => void {
    const { boot, taskId, modelId } = this.state;
    if (boot.phase !== 'ready' || !taskId) return () => undefined;
    let stale = false;
    let recheck: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      this.engine.chooseTarget(taskId, modelId || undefined, requested, params).then(
        (choice) => {
          if (!stale) this.set({ targetStatus: describeTargetChoice(requested, choice) });
        },
        (err) => {
          if (stale) return;
          // Only target-unavailable means the target cannot work; other failures (e.g. a model the server lacks)
          // are reported by the run itself, with what to do.
          const e = toEngineError(err);
          this.set({ targetStatus: e.code === 'target-unavailable' ? describeTargetProblem(requested, e.message, serverOnly) : { ok: true, text: 'Where it runs is decided when the job starts.', detail: e.message } });
          recheck = setTimeout(ask, TARGET_RECHECK_MS);
        },
      );
    };
    ask();
    return () => {
      stale = true;
      clearTimeout(recheck);
    };
  }

  /** The result card shows what was made: once its node is gone from the document (Undo, or deleted), the card goes
   *  too, and the Results entries learn which of theirs are gone. Returns the check's cancel. */
  checkPresence(nodeIds: string[], markPresence: (asked: string[], present: string[]) => void): () => void {
    let stale = false;
    const resultNode = this.state.result?.placedNodeId ?? null;
    this.host.checkNodes(nodeIds).then(
      (present) => {
        if (stale) return;
        if (resultNode && !present.includes(resultNode)) this.set((s) => (s.result?.placedNodeId === resultNode ? { result: null } : {}));
        markPresence(nodeIds, present);
      },
      () => undefined, // a host that cannot say (an older plugin): keep the card and the entries as they are
    );
    return () => {
      stale = true;
    };
  }

  /** Shown in the document; a result that is gone there is marked Removed by the check this asks for. */
  showResult = (nodeId: string): void => {
    this.host.showNode(nodeId);
    this.set((s) => ({ presenceRecheck: s.presenceRecheck + 1 }));
  };

  /** After the change in progress: a queued job starts in the same turn as the previous one ends, so no job runs only
   *  in between. */
  private scheduleWarmUp(): void {
    if (this.warmUpDue) return;
    this.warmUpDue = true;
    queueMicrotask(() => {
      this.warmUpDue = false;
      this.warmUp();
    });
  }

  /** Asks the engine to warm the chosen model up where it would run, so the first Run does not pay the browser's
   *  compile of the runtime (the engine does nothing for a model not on this computer or a job for a server). Fire and
   *  forget, once per choice, never while a job runs; a failure is only logged: the Run itself would say it. */
  private warmUp(): void {
    const s = this.state;
    const task = s.tasks.find((t) => t.id === s.taskId);
    if (s.boot.phase !== 'ready' || s.engineState !== 'ready' || s.running || !task?.warmsUp) return;
    const request = { task: task.id, model: s.modelId || undefined, params: paramsFor(task, s.paramsByTask, s.settings.params), target: targetFor(s.settings, task.id) };
    const key = JSON.stringify(request);
    if (this.warmUpsAsked.has(key)) return;
    this.warmUpsAsked.add(key);
    this.engine.warmUp(request).then(
      (answer) => console.debug('Frontier warm-up', answer),
      (err: unknown) => console.warn('Frontier warm-up failed', err),
    );
  }

  /** Captures the job the panel is set up for now, for Run or the queue. */
  capture(job: Omit<JobSpec, 'id'>): JobSpec {
    return { ...job, params: { ...job.params }, items: [...job.items], id: ++this.jobCount };
  }

  /** Run, or, while a job runs, Add to queue. */
  submit = (job: JobSpec): void => {
    if (this.state.running) this.set((s) => ({ queue: queued(s.queue, job) }));
    else void this.runJob(job, false);
  };

  removeQueued = (id: number): void => this.set((s) => ({ queue: withoutJob(s.queue, id) }));
  clearQueue = (): void => this.set({ queue: [] });

  /** Cancels the running job only; the queued ones go on. */
  cancel = (): void => {
    if (!this.state.running || this.cancelRequested) return;
    this.cancelRequested = true;
    this.set({ cancelling: true });
    if (this.currentJob) void this.engine.cancel(this.currentJob);
  };

  /** Runs one job, then the next queued one, whatever this one's outcome. `fromQueue`: the previous job's message (a
   *  failure, a cancel) stays in view while this one runs. */
  private async runJob(job: JobSpec, fromQueue: boolean): Promise<void> {
    const { task, params, modelId, target, items } = job;
    // The job warms its model up itself: no warm-up of the same choice after it.
    this.warmUpsAsked.add(JSON.stringify({ task: task.id, model: modelId || undefined, params, target }));
    const generator = isGenerator(task);
    const videoTask = task.inputs.includes('video');
    this.cancelRequested = false;
    this.set({ running: job, cancelling: false, progress: { text: 'Starting', fraction: 0 }, ...(fromQueue ? {} : { problem: null }) });
    // The task starts from these settings next time Frontier opens.
    const { settings, models, hostInfo } = this.state;
    this.saveSettings({ ...settings, params: { ...settings.params, [task.id]: { ...params } } });
    // Image tasks teach the time hints: which model these choices ran, and its time per pixel on the target it used.
    const key = !generator ? choiceKey(task.id, modelId || undefined, params, task.params) : null;
    const learn = (r: ItemResult) => {
      const card = this.state.models.find((m) => m.card.id === r.meta.model)?.card;
      // The time it took, less downloading and loading the model: what the same run takes next time.
      const ms = Math.max(r.meta.runMs, r.ms - (r.setupMs ?? 0));
      if (videoTask) {
        // Per pixel of every frame the server reported; a rate of its own (upload and encoding are in it).
        const frames = r.video?.frames;
        if (key && frames && r.item.width > 0) this.costs.record({ key, model: `${r.meta.model} (video)`, target: r.meta.target, width: r.item.width, height: r.item.height * frames, ms });
        return;
      }
      if (key && r.item.width > 0) this.costs.record({ key, model: r.meta.model, tile: card && tileSpecOf(card), target: r.meta.target, width: r.item.width, height: r.item.height, ms });
    };
    // A long run that ends while the designer is elsewhere says so in the host (finish-notice.ts).
    const started = Date.now();
    const outcome = { placed: 0, kept: 0, error: undefined as string | undefined };
    try {
      const labels = new Map(models.map((m) => [m.card.id, m.card.variant === 'tiny' ? `${modelName(m.card)} (test model)` : m.card.label]));
      const preview = job.preview;
      await runBatch(
        { host: this.host, engine: this.engine },
        {
          task, model: modelId || undefined, params, target, placeMode: settings.placeMode, items,
          modelLabel: (id) => labels.get(id) ?? id, hostTakesVideo: hostInfo?.video === true,
          // Figma takes video fills on paid plans only: elsewhere the first frame stands in for the clip.
          ...(hostInfo?.name === 'figma' ? { firstFrame: firstFramePng } : {}),
          ...(videoTask && job.chosenClip ? { chosenClips: new Map([[job.chosenClip.id, clipSource(job.chosenClip)]]) } : {}),
          // Rotate view: the full-size preview of these very settings is the result (placed, or followed to its end).
          ...(preview ? { prerendered: (onProgress: (p: Progress) => void) => this.hooks.takePreview({ ...preview, full: true }, onProgress) } : {}),
        },
        {
          onProgress: (progress) => this.set({ progress }),
          onJob: (id) => (this.currentJob = id),
          onResult: (r) => {
            if (r.placedNodeId) outcome.placed++;
            else outcome.kept++;
            learn(r);
            this.set({ result: r });
            this.hooks.addToHistory(r, task, params, modelId);
          },
          isCancelled: () => this.cancelRequested,
        },
      );
    } catch (err) {
      const problem = asProblem(err);
      outcome.error = problem.message;
      this.set({ problem: { ...problem, fromRun: true } });
    } finally {
      const notice = finishNotice(
        { words: resultWords(task, params), ms: Date.now() - started, ...outcome, cancelled: this.cancelRequested },
        typeof document !== 'undefined' && panelOutOfSight(document, window.innerHeight), // no document: Node tests
      );
      if (notice) this.host.send({ type: 'notify', ...notice });
      this.currentJob = null;
      const { next, rest } = takeNext(this.state.queue);
      this.set({ running: null, progress: null, cancelling: false, queue: rest });
      // The next queued job starts at once: the footer goes from one job's progress to the next's in one render.
      if (next) void this.runJob(next, true);
      void this.refreshModels(true); // cached/loaded status changed
    }
  }
}
