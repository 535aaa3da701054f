// The plugin UI: selection → task, params, model, target → Run (or, while a job runs, Add to queue) → progress →
// result placed by the host. The state and the actions on it live in the panel's model (ui/model.ts); this file lays
// out the components and wires the model to the view's own hooks (official models, results, clip, Rotate view).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { EngineClient } from './engine-client.ts';
import type { HostClient } from './host-client.ts';
import { offersModel } from '../worker/models/offers.ts';
import { modelName } from './format.ts';
import { AutomaticModels } from './cost-prior.ts';
import { PanelModel } from './model.ts';
import type { Problem } from './model.ts';
import { useStore } from './store/store.ts';
import { runLabel, usePanelView } from './store/view.ts';
import { timeHints } from './store/hints.ts';
import { LabelRow, useToggle } from './components/InfoButton.tsx';
import type { ErrorAction } from './components/ErrorPanel.tsx';
import { InstalledNotice } from './components/InstalledNotice.tsx';
import { InstallsInProgress } from './components/InstallsInProgress.tsx';
import { ModelManager } from './components/ModelManager.tsx';
import { OfficialModels } from './components/OfficialModels.tsx';
import { TestModelNotice } from './components/TestModelNotice.tsx';
import { modelMismatch, ModelPicker } from './components/ModelPicker.tsx';
import { PairingPrompt } from './components/PairingPrompt.tsx';
import { ParamsForm } from './components/ParamsForm.tsx';
import { Presets } from './components/Presets.tsx';
import { RunFooter } from './components/RunFooter.tsx';
import { StatusLine } from './components/StatusLine.tsx';
import { useResultsHistory } from './history.ts';
import { ViewPreviewPanel } from './components/ViewPreviewPanel.tsx';
import { useViewPreview } from './view-preview.ts';
import { entryForTestModel, testModelInUse } from './install-format.ts';
import { useOfficialModels } from './official-models.ts';
import { Section } from './components/Section.tsx';
import { SelectionPanel } from './components/SelectionPanel.tsx';
import { ClipChooser } from './components/ClipChooser.tsx';
import { useChosenClip, useClipFit } from './clip.ts';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { TargetPicker } from './components/TargetPicker.tsx';

export { applyTheme } from './model.ts';

export function App({ host, engine }: { host: HostClient; engine: EngineClient }) {
  const model = useMemo(() => new PanelModel(host, engine), [host, engine]);
  const s = useStore(model.store);
  const { settings, hostInfo, boot, models, modelId, tasks } = s;
  const [taskHelpOpen, toggleTaskHelp] = useToggle();
  const history = useResultsHistory();
  /** Choose a clip… (video tasks): a file the UI holds, sent straight to the server job. */
  const clipChoice = useChosenClip();
  const chosenClip = clipChoice.clip.state === 'chosen' ? clipChoice.clip.clip : null;
  const view = usePanelView(s, chosenClip);
  const { task, params, target, taskModels, items, videoTask, generator, scaleSpec, scale, fit, blocker: viewBlocker, running } = view;
  // Whether the chosen clip fits the chosen model on the server (TTVSR's memory): asked at choose time, not after upload.
  const clipFit = useClipFit({ clip: videoTask ? chosenClip : null, model: modelId || undefined, serverUrl: settings.serverUrl, token: settings.token });
  const blocker = viewBlocker ?? clipFit.warning;

  // A task with a view preview (rotate-view, TaskDisplay.preview): a small render follows the sliders, the chosen
  // size renders when one is let go (Run places).
  const viewFacts = task?.display?.preview;
  const previewRequest =
    task && viewFacts?.kind === 'view' && boot.phase === 'ready' && !running
      ? { task: task.id, model: modelId || undefined, params, sources: items.flatMap((it) => (it.meta ? [it.meta] : [])), target, full: s.previewFull, modelsKey: models.map((m) => m.card.id).join(), viewParams: viewFacts.params }
      : null;
  const viewPreview = useViewPreview(engine, previewRequest);
  model.hooks = { addToHistory: history.add, takePreview: viewPreview.take };

  useEffect(() => model.connect(), [model]);

  // Official models: listed and installed by the server; an install or removal reloads the engine's model list.
  const official = useOfficialModels({
    serverUrl: settings.serverUrl.trim().replace(/\/+$/, ''),
    token: settings.token,
    active: boot.phase !== 'waiting-host',
    onRegistryChanged: (change) => model.registryChanged(change),
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

  // The result card and the Results entries follow the document: Undo changes the selection in every host, so each
  // selection change asks, in one check, whether the results are still there.
  const resultNode = s.result?.placedNodeId ?? null;
  const checkKey = [...new Set([...(resultNode ? [resultNode] : []), ...history.entries.flatMap((e) => (e.nodeId ? [e.nodeId] : []))])].join('\n');
  const { markPresence } = history;
  useEffect(() => {
    if (!checkKey || running) return;
    return model.checkPresence(checkKey.split('\n'), markPresence);
  }, [model, s.selection, checkKey, resultNode, running, markPresence, s.presenceRecheck]);

  // Where the job would run, asked anew when anything it depends on changes.
  const serverOnly = task?.serverOnly === true;
  useEffect(() => model.checkTarget(params, target, serverOnly), [model, boot.phase, s.taskId, modelId, target, s.engineState, params, models, serverOnly]);

  // A scale that no longer fits the selection moves down to the largest that does.
  useEffect(() => {
    if (task && fit && scale !== undefined && !fit.fits(scale) && fit.largest > 0) model.setParam('scale', fit.largest);
  }, [task, fit, scale]);

  // A chosen model that cannot serve the chosen scale falls back to automatic.
  useEffect(() => {
    const chosen = taskModels.find((m) => m.card.id === modelId);
    if (modelId && (!chosen || modelMismatch(chosen, scale))) model.setModel('');
  }, [taskModels, modelId, scale]);

  /** Run, or Add to queue while a job runs: the job as the panel is set up now. */
  const submit = () => {
    if (blocker || !task) return;
    model.submit(model.capture({ task, params, modelId, target, items, chosenClip: videoTask ? chosenClip : null, preview: previewRequest }));
  };
  const cancelTakesFocus = useRef(false);
  const run = () => {
    if (!running) submit();
  };

  // Escape cancels from anywhere; Enter runs when nothing in particular has focus.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && running) {
        e.preventDefault();
        model.cancel();
      } else if (e.key === 'Enter' && !running && (document.activeElement === document.body || document.activeElement === null)) {
        e.preventDefault();
        run();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

  // Time hints: above Run, and next to each choice that changes the work.
  const modelIds = models.map((m) => m.card.id).join('\n');
  const [, setAutomaticAnswers] = useState(0);
  // What Automatic would run for each set of choices, asked of the engine once each (anew when the installed models
  // change: a model list refreshed after a run, with the same models, keeps the answers).
  const automatic = useMemo(() => new AutomaticModels((t, p) => engine.defaultModelFor(t, p), () => setAutomaticAnswers((n) => n + 1)), [engine, modelIds]);
  const taskCards = useMemo(() => models.filter((m) => task && offersModel(task, m.card)).map((m) => m.card), [models, task]);
  const allCards = useMemo(() => models.map((m) => m.card), [models]);
  const { runEstimate, hints } = timeHints({
    task, params, modelId, generator, videoTask, items, chosenClip, costs: model.costs, currentTarget: s.targetStatus?.ok ? s.targetStatus.target : undefined,
    taskCards, allCards, automatic, threads: s.caps?.wasm.threads, scaleSpec,
  });
  const labels = useMemo(() => new Map(models.map((m) => [m.card.id, m.card.variant === 'tiny' ? `${modelName(m.card)} (test model)` : m.card.label])), [models]);

  function actionsFor(p: Problem): ErrorAction[] {
    switch (p.code) {
      case 'download-failed':
      case 'hash-mismatch':
      case 'model-load-failed':
        return [
          { label: 'Retry', run },
          { label: 'Clear model cache', run: () => void model.clearModels(modelId ? [modelId] : undefined) },
        ];
      case 'worker-crashed':
        return [{ label: 'Restart engine', run: () => { model.dismissProblem(); model.restartEngine(); } }];
      case 'target-unavailable':
        return [{ label: 'Use Auto', run: () => { model.dismissProblem(); model.setTarget('auto'); } }];
      default:
        return [];
    }
  }

  return (
    <div class="app-shell">
      <main class="app" data-testid="content">
        <StatusLine boot={boot} hostSilent={s.hostSilent} engineState={s.engineState} caps={s.caps} serverUrl={settings.serverUrl} onRestart={model.restartEngine} />

        {s.pairing && <PairingPrompt pairing={s.pairing} serverUrl={settings.serverUrl} disabled={running} onPair={model.pair} onDismiss={model.dismissPairing} />}

        <InstallsInProgress official={official.state} actions={official.actions} except={testModelEntry?.id} />

        {/* A video task chooses its clip here; the selection is shown when it holds clips the host can read. */}
        {videoTask && <ClipChooser clip={clipChoice.clip} fit={clipFit} disabled={false} host={hostInfo} onChoose={(file) => void clipChoice.choose(file)} onClear={clipChoice.clear} />}
        {(!videoTask || s.selection.items.some((it) => it.video)) && <SelectionPanel selection={s.selection} together={generator} note={view.leftOut ?? undefined} />}

        {/* Not a <form>: sandboxed plugin iframes without allow-forms block submit events. Enter is handled here.
            While a job runs these stay usable: the next job is set up here and queued. */}
        <div class="panel job" onKeyDown={(e) => {
          if (e.key === 'Enter' && submitsOnEnter(e.target, e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            cancelTakesFocus.current = !running && !blocker;
            run();
          }
        }}>
          <div class="field">
            <LabelRow info={task ? { open: taskHelpOpen, onToggle: toggleTaskHelp, controls: 'task-help', about: task.label, testId: 'task-info' } : undefined}>
              <label class="field-label" for="task-select">Task</label>
            </LabelRow>
            <select id="task-select" data-testid="task-select" disabled={tasks.length === 0} onChange={(e) => model.chooseTask(e.currentTarget.value)}>
              {tasks.length === 0 && <option value="">{boot.phase === 'failed' ? 'Engine unavailable' : 'Loading tasks…'}</option>}
              {tasks.map((t) => (
                <option key={t.id} value={t.id} selected={t.id === s.taskId}>{t.label}</option>
              ))}
            </select>
            {task && <p class="help" id="task-help" data-testid="task-help" hidden={!taskHelpOpen}>{task.description}</p>}
          </div>
          {testModel && (
            <TestModelNotice tiny={testModel} entry={testModelEntry} real={realModel} official={official.state} actions={official.actions}
              serverUrl={settings.serverUrl} onUseReal={model.setModel} onReloadModels={() => void model.refreshModels(false, true)} />
          )}
          {justInstalled && task && (
            <InstalledNotice taskLabel={task.label} modelLabel={justInstalled.label} onDismiss={() => official.actions.acknowledge(justInstalled.id)} />
          )}

          {previewRequest && <ViewPreviewPanel {...viewPreview} />}
          {task?.presets?.length ? (
            <Presets presets={task.presets} values={params} disabled={false}
              unavailable={(preset) => (fit && typeof preset.params.scale === 'number' && !fit.fits(preset.params.scale) ? `Too large here at ×${preset.params.scale}: ${fit.note ?? 'the host cannot place the result'}` : null)}
              onApply={(values) => model.setParams(values)} />
          ) : null}
          {task && <ParamsForm specs={task.params} values={params} disabled={false} scaleFit={fit} hints={hints} onChange={model.setParam} onCommit={model.commitParams} />}

          <ModelPicker models={taskModels} all={models} value={modelId} scale={scale} disabled={boot.phase !== 'ready'} onChange={model.setModel} />
          <TargetPicker value={target} status={s.targetStatus} disabled={!hostInfo || !s.taskId} onChange={model.setTarget} />
        </div>

        <Section title="Models" testId="models-panel">
          <OfficialModels official={official.state} actions={official.actions} tasks={tasks} serverUrl={settings.serverUrl} />
          <ModelManager models={models} capabilities={s.caps} tasks={tasks} serverUrl={settings.serverUrl} busy={s.modelsBusy || running || boot.phase !== 'ready'} onClear={model.clearModels}
            onRefresh={() => {
              void model.refreshModels(false, true);
              official.actions.reload();
            }} />
        </Section>
        <Section title="Settings" testId="settings-panel" open={boot.phase === 'failed' || undefined}>
          <SettingsPanel settings={settings} disabled={running || !hostInfo} onSave={model.saveSettings} onTest={(url, token) => engine.testServer(url, token)} host={hostInfo?.name} />
        </Section>
      </main>

      <RunFooter running={s.running} progress={s.progress} cancelling={s.cancelling} queue={s.queue} problem={s.problem} problemActions={s.problem ? actionsFor(s.problem) : []}
        result={s.result} hostInfo={hostInfo} blocker={blocker} showBlocker={blocker !== null && boot.phase === 'ready'} runEstimate={runEstimate}
        runLabel={runLabel(task, generator ? 1 : items.length, scale)} history={history.entries} modelLabel={(id) => labels.get(id) ?? id}
        cancelTakesFocus={cancelTakesFocus} onRun={submit} onCancel={model.cancel} onRemoveQueued={model.removeQueued} onClearQueue={model.clearQueue}
        onDismissProblem={model.dismissProblem} onDismissResult={model.dismissResult} onShowResult={model.showResult} onUseSettings={model.applySettingsOf} />
    </div>
  );
}

/** Enter in a field runs the task; in a multi-line field (a prompt) Enter is a new line and Ctrl/⌘+Enter runs.
 *  Buttons keep Enter for themselves. */
export function submitsOnEnter(target: EventTarget | null, modifier = false): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || (el.tagName === 'TEXTAREA' && modifier));
}
