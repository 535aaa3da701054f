// The plugin UI: selection → task, params, model, target → Run → progress → result placed by the host.
// State lives here; components only render it. The host is reached only through HostClient and the
// engine only through EngineClient.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DEFAULT_SETTINGS, MAX_IMAGE_EDGE } from '../plugin/messages.ts';
import type { HostInfo, SelectionSummary, Settings, UiMessage } from '../plugin/messages.ts';
import type { Capabilities, ModelStatus } from '../worker/engine-api.ts';
import type { ErrorCode, Params, ParamValue, Progress, Target } from '../worker/job.ts';
import type { TaskInfo } from '../worker/tasks/task.ts';
import { offersModel } from '../worker/models/offers.ts';
import { isGenerator, maskHint, runBatch } from './batch.ts';
import type { BatchProgress, ItemResult } from './batch.ts';
import { toEngineError } from './engine-client.ts';
import type { EngineClient, EngineState } from './engine-client.ts';
import { describeTargetChoice, describeTargetProblem, modelName, scaleFit, scaleOptions } from './format.ts';
import { choiceKey, CostBook } from './cost.ts';
import { AutomaticModels, expectedModel, priorEstimate, ROUGH_NOTE, timeHint } from './cost-prior.ts';
import { fractionAt, remainingText } from './progress.ts';
import type { HostClient } from './host-client.ts';
import { ErrorPanel, ProblemDetails } from './components/ErrorPanel.tsx';
import { problemWords } from './error-words.ts';
import { InfoButton, LabelRow, useToggle } from './components/InfoButton.tsx';
import type { ParamHint } from './components/ParamsForm.tsx';
import type { ErrorAction } from './components/ErrorPanel.tsx';
import { InstalledNotice } from './components/InstalledNotice.tsx';
import { InstallsInProgress } from './components/InstallsInProgress.tsx';
import { ModelManager } from './components/ModelManager.tsx';
import { OfficialModels } from './components/OfficialModels.tsx';
import { TestModelNotice } from './components/TestModelNotice.tsx';
import { modelMismatch, ModelPicker } from './components/ModelPicker.tsx';
import { PairingPrompt, type PairingState } from './components/PairingPrompt.tsx';
import { ParamsForm } from './components/ParamsForm.tsx';
import { ProgressBar } from './components/ProgressBar.tsx';
import { Presets } from './components/Presets.tsx';
import { ResultPreview } from './components/ResultPreview.tsx';
import { ResultsHistory } from './components/ResultsHistory.tsx';
import { finishNotice, panelOutOfSight } from './finish-notice.ts';
import { resultWords, useResultsHistory, type HistoryEntry } from './history.ts';
import { savedParamsFitting } from './saved-params.ts';
import { ViewPreviewPanel } from './components/ViewPreviewPanel.tsx';
import { useViewPreview } from './view-preview.ts';
import { entryForTestModel, testModelInUse } from './install-format.ts';
import { useOfficialModels } from './official-models.ts';
import { SamplingPreview } from './components/SamplingPreview.tsx';
import { Section } from './components/Section.tsx';
import { SelectionPanel } from './components/SelectionPanel.tsx';
import { ClipChooser } from './components/ClipChooser.tsx';
import { clipItem, clipSource, useChosenClip } from './clip.ts';
import { firstFramePng } from './first-frame.ts';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { TargetPicker } from './components/TargetPicker.tsx';
import type { TargetStatus } from './components/TargetPicker.tsx';

interface Problem {
  code?: ErrorCode;
  message: string;
  tone: 'error' | 'neutral';
  /** A run's failure: it belongs to that run's task, and goes when another task is chosen. */
  fromRun?: boolean;
}

// plugin/messages.ts types 'ui-ready' as Record<string, never>, which intersects `type` to never: cast once here.
const UI_READY: UiMessage = { type: 'ui-ready' };

type Boot = { phase: 'waiting-host' | 'starting' | 'ready' } | { phase: 'failed'; problem: Problem };

/** What the footer's bar shows: a batch's progress, or the moment before its first report. */
type Shown = Pick<BatchProgress, 'text' | 'fraction'> & Partial<BatchProgress>;

/** A clock that ticks while `active` (the time left counts down between progress reports). */
function useNow(active: boolean, everyMs = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs]);
  return now;
}

export function applyTheme(mode: 'light' | 'dark'): void {
  const root = document.documentElement;
  root.classList.toggle('theme-dark', mode === 'dark');
  root.classList.toggle('theme-light', mode === 'light');
}

function defaults(task: TaskInfo): Params {
  return Object.fromEntries(task.params.map((p) => [p.name, p.default]));
}


function asProblem(err: unknown): Problem {
  const code = err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: ErrorCode }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return { code, message, tone: code === 'cancelled' ? 'neutral' : 'error' };
}

export function App({ host, engine }: { host: HostClient; engine: EngineClient }) {
  const [hostInfo, setHostInfo] = useState<HostInfo | null>(null);
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [selection, setSelection] = useState<SelectionSummary>({ items: [] });
  const [boot, setBoot] = useState<Boot>({ phase: 'waiting-host' });
  const [engineState, setEngineState] = useState<EngineState>(engine.state);
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [tasks, setTasks] = useState<TaskInfo[]>([]);
  const [models, setModels] = useState<ModelStatus[]>([]);
  const [taskId, setTaskId] = useState('');
  const [paramsByTask, setParamsByTask] = useState<Record<string, Params>>({});
  const [modelId, setModelId] = useState('');
  const [targetStatus, setTargetStatus] = useState<TargetStatus | null>(null);
  const [progress, setProgress] = useState<Shown | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<ItemResult | null>(null);
  const [modelsBusy, setModelsBusy] = useState(false);
  /** The server asks for its pairing code (null: it does not, or the user said "not now" this session). */
  const [pairing, setPairing] = useState<PairingState | null>(null);
  const pairingDismissed = useRef(false);
  const bootGeneration = useRef(0);
  const cancelRequested = useRef(false);
  const currentJob = useRef<string | null>(null);
  const runButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  /** What a run left in the footer (its result, or its message): focus goes there when Run cannot take it. */
  const outcomeRef = useRef<HTMLDivElement>(null);
  /** How long runs took here, per model and target: the time hints next to Run and the quality choices. */
  const costs = useRef(new CostBook());
  const [taskHelpOpen, toggleTaskHelp] = useToggle();
  const history = useResultsHistory();
  /** Choose a clip… (video tasks): a file the UI holds, sent straight to the server job. */
  const clipChoice = useChosenClip();
  const chosenClip = clipChoice.clip.state === 'chosen' ? clipChoice.clip.clip : null;

  const running = progress !== null;
  // "Run on" is remembered per task: forcing one task onto this computer leaves the others where they were.
  const target: Target = settings.targets?.[taskId] ?? settings.target;
  const task = tasks.find((t) => t.id === taskId);
  const params: Params = useMemo(() => (task ? { ...defaults(task), ...savedParamsFitting(task, settings.params?.[task.id]), ...paramsByTask[task.id] } : {}), [task, paramsByTask, settings.params]);
  // A pipeline is offered by the part its jobs name (text-to-image: the transformer), not by each part.
  // Tasks with a mode (restore) offer only the models for the chosen mode.
  const mode = params.mode === undefined ? undefined : String(params.mode);
  const taskModels = useMemo(
    () => models.filter((m) => task && offersModel(task, m.card) && (!m.card.mode || mode === undefined || m.card.mode === mode)),
    [models, task, mode],
  );
  const videoTask = task?.inputs.includes('video') ?? false;
  const generator = task ? isGenerator(task) : false;
  const latentsNeeded = task?.inputs.filter((i) => i === 'latent').length ?? 0;
  const maskTask = task?.inputs.includes('mask') ?? false;
  // A video task takes the items the host can read as clips; generators the results of their own models (which
  // stored a latent); image tasks everything but clips.
  // A clip chosen from a file runs first, then the selected clips.
  const items = useMemo(
    () => [
      ...(videoTask && chosenClip ? [clipItem(chosenClip)] : []),
      ...selection.items.filter((it) =>
        videoTask ? it.video === true
        : generator ? !!it.meta?.latent && taskModels.some((m) => m.card.id === it.meta?.model)
        : maskTask ? it.kind !== 'video' && !!it.mask
        : it.kind !== 'video',
      ),
    ],
    [selection, videoTask, generator, maskTask, taskModels, chosenClip],
  );
  const scaleSpec = task?.params.find((p) => p.name === 'scale');
  const scale = scaleSpec && params.scale !== undefined ? Number(params.scale) : undefined;
  // The 4096 px limit is Figma's for images; video results have the server's frame limit instead.
  const fit = useMemo(
    () => (scaleSpec && !videoTask ? scaleFit(items, scaleOptions(scaleSpec), hostInfo?.maxImageEdge ?? MAX_IMAGE_EDGE, hostInfo?.name, scale) : undefined),
    [scaleSpec, videoTask, items, hostInfo, scale],
  );

  // A task with a view preview (rotate-view, TaskDisplay.preview): a small render follows the sliders, the chosen
  // size renders when one is let go (Run places).
  const [previewFull, setPreviewFull] = useState(true);
  const viewFacts = task?.display?.preview;
  const previewRequest =
    task && viewFacts?.kind === 'view' && boot.phase === 'ready' && !running
      ? { task: task.id, model: modelId || undefined, params, sources: items.flatMap((it) => (it.meta ? [it.meta] : [])), target, full: previewFull, modelsKey: models.map((m) => m.card.id).join(), viewParams: viewFacts.params }
      : null;
  const viewPreview = useViewPreview(engine, previewRequest);

  useEffect(() => engine.onState(setEngineState), [engine]);

  // A host that never answers ui-ready (UI opened outside a host, or the host crashed) must not look like loading.
  const [hostSilent, setHostSilent] = useState(false);
  useEffect(() => {
    if (boot.phase !== 'waiting-host') return;
    const timer = setTimeout(() => setHostSilent(true), 5_000);
    return () => clearTimeout(timer);
  }, [boot.phase]);

  /** Reloads model statuses; `quiet` keeps a failure from replacing the message the user is reading. */
  const refreshModels = useCallback(
    async (quiet = false, reload = false) => {
      try {
        setModels(await engine.models(reload ? { reload } : undefined));
      } catch (err) {
        if (!quiet) setProblem(asProblem(err));
      }
    },
    [engine],
  );

  // Official models: listed and installed by the server; an install or removal reloads the engine's model list, and
  // a task that had its test model chosen by hand goes back to Automatic (which prefers the real model).
  const official = useOfficialModels({
    serverUrl: settings.serverUrl.trim().replace(/\/+$/, ''),
    token: settings.token,
    active: boot.phase !== 'waiting-host',
    onRegistryChanged: async ({ installed }) => {
      try {
        setModels(await engine.models({ reload: true }));
      } catch (err) {
        setProblem(asProblem(err));
      }
      if (installed?.length) setModelId((prev) => (prev.endsWith('-tiny') && installed.includes(prev.replace(/-tiny$/, '')) ? '' : prev));
    },
  });
  // The engine came up again (e.g. Retry after starting the server): ask for the list again if it failed.
  const officialConnection = official.state.connection.state;
  useEffect(() => {
    if (boot.phase === 'ready' && officialConnection !== 'ready' && officialConnection !== 'loading') official.actions.reload();
  }, [boot.phase]); // only when the engine comes up, not on every connection change
  const testModel = testModelInUse(taskModels, modelId);
  const testModelEntry = testModel ? entryForTestModel(testModel.card.id, official.state.entries) : undefined;
  const realModel = testModel ? taskModels.find((m) => m.card.variant !== 'tiny' && m.card.id === testModel.card.id.replace(/-tiny$/, '')) : undefined;
  // "Installed: Generate now uses …" once, for the task whose real model was just installed.
  const justInstalled = testModel ? undefined : official.state.entries.find((e) => official.state.installedNow[e.id] && taskModels.some((m) => e.cards.includes(m.card.id)));

  /** (Re)starts the engine for `s` and loads tasks and models; a newer start makes an older one's outcome moot. */
  const startEngine = useCallback(
    async (s: Settings) => {
      const generation = ++bootGeneration.current;
      setBoot({ phase: 'starting' });
      try {
        const capabilities = await engine.init({ modelBaseUrl: s.serverUrl.replace(/\/+$/, ''), ...(s.token ? { token: s.token } : {}) });
        const [taskList, modelList] = await Promise.all([engine.tasks(), engine.models()]);
        if (generation !== bootGeneration.current) return;
        setCaps(capabilities);
        setTasks(taskList);
        setModels(modelList);
        setTaskId((prev) => (taskList.some((t) => t.id === prev) ? prev : (taskList[0]?.id ?? '')));
        setBoot({ phase: 'ready' });
        // Does the server take our pairing code? Asked without its model list: that would load every model there.
        const access = await engine.testServer(s.serverUrl.replace(/\/+$/, ''), s.token, { models: false }).catch(() => null);
        if (generation !== bootGeneration.current) return;
        setPairing(access?.pairing && !(pairingDismissed.current && access.pairing === 'needed') ? { state: access.pairing, hint: access.pairingHint } : null);
      } catch (err) {
        if (generation !== bootGeneration.current) return;
        setBoot({ phase: 'failed', problem: asProblem(err) });
      }
    },
    [engine],
  );

  // Host events. `ui-ready` goes out once the handlers are in place, so `init` cannot be missed.
  useEffect(() => {
    const offs = [
      host.on('init', (msg) => {
        setHostInfo(msg.host);
        setSettings(msg.settings);
        setSelection(msg.selection);
        void startEngine(msg.settings);
      }),
      host.on('selection-changed', (msg) => setSelection(msg.selection)),
      host.on('theme', (msg) => applyTheme(msg.mode)),
    ];
    host.send(UI_READY);
    return () => offs.forEach((off) => off());
  }, [host, startEngine]);

  // The result card shows what was made: once the result is gone from the document (Undo, or deleted), it goes too,
  // and its Results entry says Removed (Redo brings it back). Undo changes the selection in every host, so each
  // selection change asks, in one check, whether the results are still there.
  const resultNode = result?.placedNodeId ?? null;
  const historyNodes = history.entries.flatMap((e) => (e.nodeId ? [e.nodeId] : []));
  const checkKey = [...new Set([...(resultNode ? [resultNode] : []), ...historyNodes])].join('\n');
  const { markPresence } = history;
  const [recheck, setRecheck] = useState(0);
  useEffect(() => {
    if (!checkKey || running) return;
    let stale = false;
    const asked = checkKey.split('\n');
    host.checkNodes(asked).then(
      (present) => {
        if (stale) return;
        if (resultNode && !present.includes(resultNode)) setResult((r) => (r?.placedNodeId === resultNode ? null : r));
        markPresence(asked, present);
      },
      () => undefined, // a host that cannot say (an older plugin): keep the card and the entries as they are
    );
    return () => {
      stale = true;
    };
  }, [host, selection, checkKey, resultNode, running, markPresence, recheck]);

  // Explain the target for the current task/model; a forced target that cannot work blocks Run. A check that failed
  // (the server not answering its 3 s probe yet: starting, or busy) is asked again a few seconds later, so the line
  // follows the server instead of keeping an answer that no longer holds.
  const [targetRecheck, setTargetRecheck] = useState(0);
  const serverOnly = task?.serverOnly === true;
  useEffect(() => {
    if (boot.phase !== 'ready' || !taskId) return;
    let stale = false;
    let recheck: ReturnType<typeof setTimeout> | undefined;
    const requested = target;
    engine.chooseTarget(taskId, modelId || undefined, requested, params).then(
      (choice) => {
        if (stale) return;
        setTargetStatus(describeTargetChoice(requested, choice));
      },
      (err) => {
        if (stale) return;
        // Only target-unavailable means the target cannot work; other failures (e.g. a model the server lacks)
        // are reported by the run itself, with what to do.
        const e = toEngineError(err);
        setTargetStatus(e.code === 'target-unavailable' ? describeTargetProblem(requested, e.message, serverOnly) : { ok: true, text: 'Where it runs is decided when the job starts.', detail: e.message });
        recheck = setTimeout(() => setTargetRecheck((n) => n + 1), 3_000);
      },
    );
    return () => {
      stale = true;
      clearTimeout(recheck);
    };
  }, [engine, boot.phase, taskId, modelId, target, engineState, params, models, targetRecheck, serverOnly]);

  // A scale that no longer fits the selection moves down to the largest that does.
  useEffect(() => {
    if (task && fit && scale !== undefined && !fit.fits(scale) && fit.largest > 0) setParam('scale', fit.largest);
  }, [task, fit, scale]);

  // A chosen model that cannot serve the chosen scale falls back to automatic.
  useEffect(() => {
    const chosen = taskModels.find((m) => m.card.id === modelId);
    if (modelId && (!chosen || modelMismatch(chosen, scale))) setModelId('');
  }, [taskModels, modelId, scale]);

  function setParam(name: string, value: ParamValue) {
    if (!task) return;
    setParamsByTask((prev) => ({ ...prev, [task.id]: { ...prev[task.id], [name]: value } }));
  }

  // A task that turns a selected result of its own model (rotate-view) and starts from the seed otherwise: say when
  // what is selected is not such a result, instead of leaving it out silently.
  const leftOut = task?.optionalSource && generator && selection.items.length > 0 && items.length === 0
    ? `${selection.items.length === 1 ? `“${selection.items[0].name}” is` : 'These are'} not ${task.optionalSource}, so ${task.label} leaves ${selection.items.length === 1 ? 'it' : 'them'} out and makes a new one from the seed.`
    : null;
  // A text a task needs (the prompt) left blank: Run says so instead of drawing from nothing.
  const blankText = task?.params.find((p) => p.type === 'string' && p.required && !String(params[p.name] ?? '').trim());
  const blocker: string | null =
    boot.phase !== 'ready' ? 'The engine is not ready.'
    : !task ? 'No task available.'
    : blankText ? `Type a ${blankText.label.toLowerCase()} first: say what you want to see.`
    : generator ? (items.length < latentsNeeded ? `Select ${latentsNeeded === 1 ? 'an image' : `${latentsNeeded} images`} generated here with the same model: Frontier's results remember their latent.` : null)
    : videoTask && items.length === 0 ? clipHint(hostInfo)
    : videoTask ? (targetStatus && !targetStatus.ok ? targetStatus.text : null)
    : selection.items.length === 0 ? (selection.problem ?? 'Select an image first.')
    : items.length === 0 ? (maskTask ? `Mark what to fill: ${maskHint(hostInfo?.name)}` : 'A video is selected: choose Upscale video or Restore video in Task, or select an image.')
    : fit && fit.largest === 0 ? (fit.note ?? 'The selection is too large for this host.')
    : targetStatus && !targetStatus.ok ? targetStatus.text
    : null;

  const run = useCallback(async () => {
    if (running || blocker || !task) return;
    cancelRequested.current = false;
    setCancelling(false);
    setProblem(null);
    setProgress({ text: 'Starting', fraction: 0 });
    // The task starts from these settings next time Frontier opens.
    saveSettings({ ...settings, params: { ...settings.params, [task.id]: { ...params } } });
    // Image tasks teach the time hints: which model these choices ran, and its time per pixel on the target it used.
    const key = !generator ? choiceKey(task.id, modelId || undefined, params, task.params) : null;
    const learn = (r: ItemResult) => {
      const card = models.find((m) => m.card.id === r.meta.model)?.card;
      // The time it took, less downloading and loading the model: what the same run takes next time.
      const ms = Math.max(r.meta.runMs, r.ms - (r.setupMs ?? 0));
      if (videoTask) {
        // Per pixel of every frame the server reported; a rate of its own (upload and encoding are in it).
        const frames = r.video?.frames;
        if (key && frames && r.item.width > 0) costs.current.record({ key, model: `${r.meta.model} (video)`, target: r.meta.target, width: r.item.width, height: r.item.height * frames, ms });
        return;
      }
      if (key && r.item.width > 0) costs.current.record({ key, model: r.meta.model, tile: card?.io.tile, target: r.meta.target, width: r.item.width, height: r.item.height, ms });
    };
    // A long run that ends while the designer is elsewhere says so in the host (finish-notice.ts).
    const started = Date.now();
    const outcome = { placed: 0, kept: 0, error: undefined as string | undefined };
    try {
      const labels = new Map(models.map((m) => [m.card.id, m.card.variant === 'tiny' ? `${modelName(m.card)} (test model)` : m.card.label]));
      await runBatch(
        { host, engine },
        {
          task, model: modelId || undefined, params, target, placeMode: settings.placeMode, items,
          modelLabel: (id) => labels.get(id) ?? id, hostTakesVideo: hostInfo?.video === true,
          // Figma takes video fills on paid plans only: elsewhere the first frame stands in for the clip.
          ...(hostInfo?.name === 'figma' ? { firstFrame: firstFramePng } : {}),
          ...(videoTask && chosenClip ? { chosenClips: new Map([[chosenClip.id, clipSource(chosenClip)]]) } : {}),
          // Rotate view: the full-size preview of these very settings is the result (placed, or followed to its end).
          ...(previewRequest ? { prerendered: (onProgress: (p: Progress) => void) => viewPreview.take({ ...previewRequest, full: true }, onProgress) } : {}),
        },
        {
          onProgress: setProgress,
          onJob: (id) => (currentJob.current = id),
          onResult: (r) => {
            if (r.placedNodeId) outcome.placed++;
            else outcome.kept++;
            learn(r);
            setResult(r);
            history.add(r, task, params, modelId);
          },
          isCancelled: () => cancelRequested.current,
        },
      );
    } catch (err) {
      const problem = asProblem(err);
      outcome.error = problem.message;
      setProblem({ ...problem, fromRun: true });
    } finally {
      const notice = finishNotice(
        { words: resultWords(task, params), ms: Date.now() - started, ...outcome, cancelled: cancelRequested.current },
        panelOutOfSight(document, window.innerHeight),
      );
      if (notice) host.send({ type: 'notify', ...notice });
      currentJob.current = null;
      setProgress(null);
      setCancelling(false);
      void refreshModels(true); // cached/loaded status changed
    }
  }, [running, blocker, task, models, host, engine, modelId, params, settings, items, hostInfo, refreshModels, generator, videoTask, previewRequest, viewPreview.take, history.add, chosenClip]);

  const cancel = useCallback(() => {
    if (!running || cancelRequested.current) return;
    cancelRequested.current = true;
    setCancelling(true);
    if (currentJob.current) void engine.cancel(currentJob.current);
  }, [running, engine]);

  // Keyboard focus is never dropped to <body> by a run. Run and Cancel are one button that changes with the run (Preact
  // keeps the element), so focus on it stays; Cancel stays focusable while cancelling (aria-disabled, not disabled).
  // A control the run disables (Enter in a field runs) hands focus to Cancel; when the run ends, to Run, or, when Run
  // cannot be used then (the selection went away meanwhile), to what the run left: the result or the message.
  // A layout effect, so focus moves before the browser blurs the disabled control. Not while the designer is elsewhere.
  useLayoutEffect(() => {
    if (!document.hasFocus()) return;
    const active = document.activeElement as (Element & { disabled?: boolean }) | null;
    if (active && active !== document.body && active.disabled !== true) return;
    if (running) cancelButton.current?.focus();
    else if (runButton.current && !runButton.current.disabled) runButton.current.focus();
    else outcomeRef.current?.focus();
  }, [running]);

  /** Dismissing a message or the result card: the focus in it goes to Run instead of dropping to <body> with it. */
  const dismissing = (clear: () => void) => () => {
    if (outcomeRef.current?.contains(document.activeElement) && runButton.current && !runButton.current.disabled) runButton.current.focus();
    clear();
  };

  // Escape cancels from anywhere; Enter runs when nothing in particular has focus.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && running) {
        e.preventDefault();
        cancel();
      } else if (e.key === 'Enter' && !running && (document.activeElement === document.body || document.activeElement === null)) {
        e.preventDefault();
        void run();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [running, run, cancel]);

  const restartEngine = () => void startEngine(settings);

  const clearModels = async (ids?: string[]) => {
    setModelsBusy(true);
    try {
      await engine.clearModels(ids);
    } catch (err) {
      setProblem(asProblem(err));
    } finally {
      setModelsBusy(false);
      void refreshModels();
    }
  };

  const saveSettings = (next: Settings) => {
    // Until the host's settings arrive (init), `settings` are the defaults: saving them would write the defaults over
    // the designer's stored server and pairing code. Controls that save are disabled until then; this is the backstop.
    if (!hostInfo) return;
    const reconnect = next.serverUrl !== settings.serverUrl || next.token !== settings.token;
    setSettings(next);
    host.send({ type: 'save-settings', settings: next });
    if (reconnect) void startEngine(next);
  };

  // A Results entry's "Use these settings": its task, its settings and the model chosen for it (Automatic if none).
  const applySettingsOf = (entry: HistoryEntry) => {
    if (running || !tasks.some((t) => t.id === entry.taskId)) return;
    if (entry.taskId !== taskId) setResult(null);
    setTaskId(entry.taskId);
    setModelId(entry.model ?? '');
    setParamsByTask((prev) => ({ ...prev, [entry.taskId]: { ...entry.params } }));
  };
  // Shown in the document; a result that is gone there is marked Removed by the check this asks for.
  const showResult = (nodeId: string) => {
    host.showNode(nodeId);
    setRecheck((n) => n + 1);
  };

  const setTarget = (chosen: Target) => saveSettings({ ...settings, targets: { ...settings.targets, [taskId]: chosen } });

  function actionsFor(p: Problem): ErrorAction[] {
    switch (p.code) {
      case 'download-failed':
      case 'hash-mismatch':
      case 'model-load-failed':
        return [
          { label: 'Retry', run: () => void run() },
          { label: 'Clear model cache', run: () => void clearModels(modelId ? [modelId] : undefined) },
        ];
      case 'worker-crashed':
        return [{ label: 'Restart engine', run: () => { setProblem(null); restartEngine(); } }];
      case 'target-unavailable':
        return [{ label: 'Use Auto', run: () => { setProblem(null); setTarget('auto'); } }];
      default:
        return [];
    }
  }

  // Time hints: for these choices and this selection, from the runs of this session; before a first run on the current
  // place, a rough one from the benchmarks (ui/cost-prior.ts) where the model was timed.
  const now = useNow(running);
  const costKeyFor = (p: Params) => (task && !generator ? choiceKey(task.id, modelId || undefined, p, task.params) : null);
  // A clip's work is all its frames: known (≈, at 30 fps) only for a chosen file, so only it gets an estimate.
  const workItems = !videoTask ? items : chosenClip && items.length === 1 ? [{ width: chosenClip.width, height: chosenClip.height * chosenClip.frames }] : [];
  const estimatesFor = (p: Params) => {
    const key = costKeyFor(p);
    return key ? costs.current.estimates(key, workItems) : [];
  };
  const currentTarget = targetStatus?.ok ? targetStatus.target : undefined;
  // Every model of the task, whatever the current mode: a hint for another Fix is about that fix's model.
  const allTaskCards = useMemo(() => models.filter((m) => task && offersModel(task, m.card)).map((m) => m.card), [models, task]);
  // What Automatic would run for each set of choices, asked of the engine once each (anew when the installed models
  // change: a model list refreshed after a run, with the same models, keeps the answers).
  const [, setAutomaticAnswers] = useState(0);
  const modelIds = models.map((m) => m.card.id).join('\n');
  const automatic = useMemo(() => new AutomaticModels((t, p) => engine.defaultModelFor(t, p), () => setAutomaticAnswers((n) => n + 1)), [engine, modelIds]);
  const priorFor = (p: Params) => {
    if (!task || generator || videoTask || !currentTarget) return undefined;
    const card = expectedModel(modelId || undefined, modelId ? undefined : automatic.get(task.id, p, task.params), allTaskCards);
    return card ? priorEstimate(card.id, currentTarget, workItems, { tile: card.io.tile, threads: caps?.wasm.threads }) : undefined;
  };
  const lineFor = (p: Params) => timeHint(estimatesFor(p), currentTarget, priorFor(p));
  const runEstimate = lineFor(params)?.sentence;
  // Next to each choice that changes the work (Quality, Fix; Scale says what fits instead): its time, when the choices
  // differ. A few choices: every one, the chosen first; a long list: the chosen one.
  const hints: Record<string, ParamHint> = {};
  for (const spec of task?.params ?? []) {
    if (spec.type !== 'choice' || spec === scaleSpec) continue;
    const byChoice = spec.choices.map((c) => ({ c, hint: lineFor({ ...params, [spec.name]: c.value }) }));
    const known = byChoice.filter((b) => b.hint);
    if (!known.length || (known.length === spec.choices.length && new Set(known.map((b) => b.hint!.line)).size < 2)) continue;
    const chosen = String(params[spec.name]);
    const shown = known.filter((b) => spec.choices.length <= 4 || String(b.c.value) === chosen)
      .sort((a, b) => Number(String(b.c.value) === chosen) - Number(String(a.c.value) === chosen));
    const choices = Object.fromEntries(known.map((b) => [String(b.c.value), `${b.c.label}: ${b.hint!.line}`]));
    const lines = shown.map((b) => choices[String(b.c.value)]);
    if (lines.length && shown.some((b) => b.hint!.rough)) lines.push(ROUGH_NOTE);
    if (lines.length) hints[spec.name] = { choices, lines };
  }
  const shownAt = progress?.at !== undefined ? Math.max(now, progress.at) : now;
  const barFraction = progress && progress.at !== undefined && progress.speed !== undefined && progress.cap !== undefined
    ? fractionAt({ fraction: progress.fraction, at: progress.at, speed: progress.speed, cap: progress.cap }, shownAt)
    : (progress?.fraction ?? 0);
  const eta = progress && !cancelling ? remainingText(progress.finishAt, shownAt) : undefined;
  const showBlocker = !running && blocker !== null && boot.phase === 'ready';

  return (
    <div class="app-shell">
      <main class="app" data-testid="content">
        <StatusLine boot={boot} hostSilent={hostSilent} engineState={engineState} caps={caps} serverUrl={settings.serverUrl} onRestart={restartEngine} />

        {pairing && (
          <PairingPrompt pairing={pairing} serverUrl={settings.serverUrl} disabled={running}
            onPair={(code) => saveSettings({ ...settings, token: code })}
            onDismiss={() => {
              pairingDismissed.current = true;
              setPairing(null);
            }} />
        )}

        <InstallsInProgress official={official.state} actions={official.actions} except={testModelEntry?.id} />

        {/* A video task chooses its clip here; the selection is shown when it holds clips the host can read. */}
        {videoTask && <ClipChooser clip={clipChoice.clip} disabled={running} host={hostInfo} onChoose={(file) => void clipChoice.choose(file)} onClear={clipChoice.clear} />}
        {(!videoTask || selection.items.some((it) => it.video)) && <SelectionPanel selection={selection} together={generator} note={leftOut ?? undefined} />}

        {/* Not a <form>: sandboxed plugin iframes without allow-forms block submit events. Enter is handled here. */}
        <div class="panel job" onKeyDown={(e) => {
          if (e.key === 'Enter' && submitsOnEnter(e.target, e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void run();
          }
        }}>
          <div class="field">
            <LabelRow info={task ? { open: taskHelpOpen, onToggle: toggleTaskHelp, controls: 'task-help', about: task.label, testId: 'task-info' } : undefined}>
              <label class="field-label" for="task-select">Task</label>
            </LabelRow>
            <select id="task-select" data-testid="task-select" disabled={running || tasks.length === 0}
              onChange={(e) => { setTaskId(e.currentTarget.value); setModelId(''); setResult(null); setProblem((p) => (p?.fromRun ? null : p)); }}>
              {tasks.length === 0 && <option value="">{boot.phase === 'failed' ? 'Engine unavailable' : 'Loading tasks…'}</option>}
              {tasks.map((t) => (
                <option key={t.id} value={t.id} selected={t.id === taskId}>{t.label}</option>
              ))}
            </select>
            {task && <p class="help" id="task-help" data-testid="task-help" hidden={!taskHelpOpen}>{task.description}</p>}
          </div>
          {testModel && (
            <TestModelNotice tiny={testModel} entry={testModelEntry} real={realModel} official={official.state} actions={official.actions}
              serverUrl={settings.serverUrl} onUseReal={setModelId} onReloadModels={() => void refreshModels(false, true)} />
          )}
          {justInstalled && task && (
            <InstalledNotice taskLabel={task.label} modelLabel={justInstalled.label} onDismiss={() => official.actions.acknowledge(justInstalled.id)} />
          )}

          {previewRequest && <ViewPreviewPanel {...viewPreview} />}
          {task?.presets?.length ? (
              <Presets presets={task.presets} values={params} disabled={running}
                unavailable={(preset) => (fit && typeof preset.params.scale === 'number' && !fit.fits(preset.params.scale) ? `Too large here at ×${preset.params.scale}: ${fit.note ?? 'the host cannot place the result'}` : null)}
                onApply={(values) => setParamsByTask((prev) => ({ ...prev, [task.id]: { ...prev[task.id], ...values } }))} />
          ) : null}
          {task && (
            <ParamsForm specs={task.params} values={params} disabled={running} scaleFit={fit} hints={hints}
              onChange={(name, value, moving) => {
                setParam(name, value);
                setPreviewFull(!moving);
              }}
              onCommit={() => setPreviewFull(true)} />
          )}

          <ModelPicker models={taskModels} all={models} value={modelId} scale={scale} disabled={running || boot.phase !== 'ready'} onChange={setModelId} />
          <TargetPicker value={target} status={targetStatus} disabled={running || !hostInfo || !taskId} onChange={setTarget} />
        </div>

        <Section title="Models" testId="models-panel">
          <OfficialModels official={official.state} actions={official.actions} tasks={tasks} serverUrl={settings.serverUrl} />
          <ModelManager models={models} capabilities={caps} tasks={tasks} serverUrl={settings.serverUrl} busy={modelsBusy || running || boot.phase !== 'ready'} onClear={clearModels}
            onRefresh={() => {
              void refreshModels(false, true);
              official.actions.reload();
            }} />
        </Section>
        <Section title="Settings" testId="settings-panel" open={boot.phase === 'failed' || undefined}>
          <SettingsPanel settings={settings} disabled={running || !hostInfo} onSave={saveSettings} onTest={(url, token) => engine.testServer(url, token)} host={hostInfo?.name} />
        </Section>
      </main>

      {/* The primary action stays in view: Run, or the job's progress, time left and Cancel, then what it made. */}
      <footer class="run-footer" data-testid="run-footer" aria-label="Run">
        {(problem || (result && !running)) && (
          <div class="run-outcome" ref={outcomeRef} tabIndex={-1} data-testid="run-outcome">
            {problem && <ErrorPanel message={problem.message} code={problem.code} tone={problem.tone} actions={actionsFor(problem)} onDismiss={dismissing(() => setProblem(null))} />}
            {result && !running && <ResultPreview result={result} hostName={hostInfo?.name} onDismiss={dismissing(() => setResult(null))} />}
          </div>
        )}
        {progress && (
          <div class="run-progress">
            {progress.preview && <SamplingPreview image={progress.preview} frame={videoTask} />}
            <ProgressBar text={cancelling ? 'Cancelling…' : progress.text} fraction={barFraction} eta={eta} />
          </div>
        )}
        {showBlocker && <p class="help run-blocker" data-testid="run-blocker">{blocker}</p>}
        {!running && !showBlocker && runEstimate && <p class="help run-estimate" data-testid="run-estimate">{runEstimate}</p>}
        <div class="run-row">
          {running ? (
            <button type="button" ref={cancelButton} class="primary danger" data-testid="cancel" onClick={cancel} aria-disabled={cancelling || undefined}
              aria-keyshortcuts="Escape">{cancelling ? 'Cancelling…' : 'Cancel'}</button>
          ) : (
            <button type="button" ref={runButton} class="primary" data-testid="run" onClick={() => void run()} disabled={blocker !== null} aria-keyshortcuts="Enter"
              title={blocker ?? undefined}>{runLabel(task, generator ? 1 : items.length, scale)}</button>
          )}
          <kbd aria-hidden="true" title={running ? 'Escape cancels' : 'Enter runs'}>{running ? 'Esc' : '↵'}</kbd>
        </div>
        <ResultsHistory entries={history.entries} disabled={running} onShow={showResult} onUse={applySettingsOf} />
      </footer>
    </div>
  );
}

/** Enter in a field runs the job; buttons keep Enter for themselves. */
/** Enter in a field runs the task; in a multi-line field (a prompt) Enter is a new line and Ctrl/⌘+Enter runs. */
export function submitsOnEnter(target: EventTarget | null, modifier = false): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || (el.tagName === 'TEXTAREA' && modifier));
}

/** What a video task needs when it has no clip, in the words of the host at hand. */
function clipHint(host: HostInfo | null): string {
  return host?.name === 'photoshop'
    ? 'Choose a clip… first: Photoshop layers cannot be read as video.'
    : 'Select a video, or an animated top-level frame (it is exported as MP4), or Choose a clip… from a file.';
}

function runLabel(task: TaskInfo | undefined, count: number, scale: number | undefined): string {
  const base = task ? `${task.label}${scale !== undefined ? ` ×${scale}` : ''}` : 'Run';
  return count > 1 ? `${base} · ${count} items` : base;
}

function StatusLine(props: { boot: Boot; hostSilent: boolean; engineState: EngineState; caps: Capabilities | null; serverUrl: string; onRestart(): void }) {
  const { boot, engineState, caps } = props;
  const [open, toggle] = useToggle();
  const failed = boot.phase === 'failed' ? problemWords(boot.problem.code, boot.problem.message, { starting: true }) : null;
  let tone = 'busy';
  let text = props.hostSilent ? 'The host has not answered for 5 s: close and reopen the plugin.' : 'Waiting for the host…';
  if (boot.phase === 'starting') text = 'Starting engine…';
  else if (boot.phase === 'failed') {
    tone = 'bad';
    text = 'Engine not available';
  } else if (boot.phase === 'ready') {
    if (engineState === 'failed') {
      tone = 'bad';
      text = 'Engine stopped — it restarts on the next run';
    } else if (engineState === 'starting') text = 'Restarting engine…';
    else {
      tone = 'ok';
      text = 'Ready';
    }
  }
  // What this computer offers, for those who ask (the line above stays in plain words).
  const details = tone === 'ok' && caps ? (
    <ul class="help status-facts" id="status-facts" data-testid="status-facts" hidden={!open}>
      <li>Graphics card: {caps.webgpu.available ? 'Frontier can use it' : 'Frontier cannot use it here'} <span class="detail">(WebGPU: {caps.webgpu.detail})</span></li>
      <li>Processor: {caps.wasm.threads === 1 ? 'one core' : `${caps.wasm.threads} cores`} <span class="detail">(WASM: {caps.wasm.detail})</span></li>
    </ul>
  ) : null;
  return (
    <div class={`status ${tone}`} data-testid="status" data-state={tone} role="status">
      <div class="status-line">
        <span class={`dot ${tone}`} aria-hidden="true" />
        <span>{text}</span>
        {details && <InfoButton open={open} onToggle={toggle} controls="status-facts" about="this computer" testId="status-info" />}
      </div>
      {details}
      {boot.phase === 'failed' && failed && (
        <div class="status-detail">
          <p class="message-text">{failed.headline}</p>
          {failed.advice && <p class="help">{failed.advice}</p>}
          {failed.details && <ProblemDetails {...failed.details} />}
          {boot.problem.code !== 'worker-crashed' && !boot.problem.message.includes('npm start') && (
            <p class="help">Model host: {props.serverUrl}. Start the local server: <code>npm start</code>, or change the server URL in Settings.</p>
          )}
          <div class="actions">
            <button type="button" class="secondary" onClick={props.onRestart}>{boot.problem.code === 'worker-crashed' ? 'Restart engine' : 'Retry'}</button>
          </div>
        </div>
      )}
    </div>
  );
}
