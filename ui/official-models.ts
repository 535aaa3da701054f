// State of "Official models": the server's catalogue, the installs running (progress, cancel), their failures (the
// server's words, with Retry), licences accepted this session, removals. One store per server (URL + pairing code),
// shared by the model manager and the test-model notice on each task. Free of the DOM so it is unit-tested in Node
// against a fake of the contract; useOfficialModels binds it to Preact.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  createInstallClient,
  InstallError,
  newJobId,
  type CatalogueEntryView,
  type InstallClient,
  type InstallProgress,
  type PickedFile,
} from '../worker/runtime/install-client.ts';

export type { CatalogueEntryView, InstallProgress, PickedFile } from '../worker/runtime/install-client.ts';

/** Where the list stands with the server. The message of a problem state is the plain-words detail. */
export type Connection =
  | { state: 'loading' | 'ready' }
  | { state: 'offline' | 'unpaired' | 'unsupported' | 'error'; message: string };

export interface InstallRun {
  job: string;
  /** download: the server fetches it; file: the user's file is sent first; resumed: started before this window opened. */
  source: 'download' | 'file' | 'resumed';
  progress: InstallProgress;
  cancelling: boolean;
}

export interface OfficialState {
  connection: Connection;
  entries: CatalogueEntryView[];
  runs: Record<string, InstallRun>;
  /** The last failure per entry, as the server (or the connection) put it. */
  failures: Record<string, string>;
  /** Licences accepted in this session (entries with acceptBeforeDownload). */
  accepted: Record<string, boolean>;
  removing: Record<string, boolean>;
  /** Entries installed in this session (the task notice says the task now uses it). */
  installedNow: Record<string, boolean>;
}

export interface OfficialHooks {
  /** The server's registry changed: reload the engine's model list. Awaited before the entry shows Installed. */
  onRegistryChanged(change: { installed?: string[]; removed?: string[] }): Promise<void> | void;
}

export interface OfficialActions {
  reload(): void;
  install(id: string, file?: PickedFile): void;
  cancel(id: string): void;
  retry(id: string): void;
  remove(id: string): void;
  accept(id: string, accepted: boolean): void;
  dismissFailure(id: string): void;
  /** The user has read "Installed: … now uses it". */
  acknowledge(id: string): void;
}

const DETACH = 'detach';

export class OfficialModelsStore implements OfficialActions {
  private current: OfficialState = { connection: { state: 'loading' }, entries: [], runs: {}, failures: {}, accepted: {}, removing: {}, installedNow: {} };
  private readonly listeners = new Set<(s: OfficialState) => void>();
  private readonly controllers = new Map<string, AbortController>();
  /** What the last install of an entry used (its file), for Retry. */
  private readonly lastFile = new Map<string, PickedFile | undefined>();
  private loading: AbortController | null = null;
  private disposed = false;

  constructor(
    private readonly client: InstallClient,
    private readonly hooks: OfficialHooks,
  ) {}

  get state(): OfficialState {
    return this.current;
  }

  subscribe(listener: (s: OfficialState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<OfficialState> | ((s: OfficialState) => Partial<OfficialState>)): void {
    if (this.disposed) return;
    const next = typeof patch === 'function' ? patch(this.current) : patch;
    this.current = { ...this.current, ...next };
    for (const l of this.listeners) l(this.current);
  }

  private setRecord<K extends 'runs' | 'failures' | 'accepted' | 'removing' | 'installedNow'>(key: K, id: string, value: OfficialState[K][string] | undefined): void {
    this.set((s) => {
      const record = { ...s[key] } as Record<string, unknown>;
      if (value === undefined) delete record[id];
      else record[id] = value;
      return { [key]: record } as Partial<OfficialState>;
    });
  }

  /** Reads the catalogue; follows installs the server is running that this window does not follow yet. */
  async load(): Promise<void> {
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    if (this.current.connection.state !== 'ready') this.set({ connection: { state: 'loading' } });
    try {
      const entries = await this.client.catalogue(controller.signal);
      if (controller.signal.aborted) return;
      this.set({ entries, connection: { state: 'ready' } });
      for (const e of entries) {
        if (e.state === 'installing' && e.installing?.job && !this.current.runs[e.id]) void this.follow(e.id, e.installing.job);
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      this.set({ connection: connectionProblem(err) });
    } finally {
      if (this.loading === controller) this.loading = null;
    }
  }

  reload(): void {
    void this.load();
  }

  accept(id: string, accepted: boolean): void {
    this.setRecord('accepted', id, accepted || undefined);
  }

  dismissFailure(id: string): void {
    this.setRecord('failures', id, undefined);
  }

  acknowledge(id: string): void {
    this.setRecord('installedNow', id, undefined);
  }

  install(id: string, file?: PickedFile): void {
    void this.run(id, file);
  }

  retry(id: string): void {
    void this.run(id, this.lastFile.get(id));
  }

  /** Installs `id` (from `file` when given) and waits for the end; failures are kept per entry. */
  async run(id: string, file?: PickedFile): Promise<void> {
    const entry = this.current.entries.find((e) => e.id === id);
    if (!entry || this.current.runs[id]) return;
    if (entry.license.acceptBeforeDownload && !this.current.accepted[id]) {
      this.setRecord('failures', id, 'Accept the licence first: tick “I accept” above the buttons.');
      return;
    }
    this.lastFile.set(id, file);
    const job = newJobId();
    const controller = new AbortController();
    this.controllers.set(id, controller);
    this.setRecord('failures', id, undefined);
    this.setRecord('runs', id, {
      job, source: file ? 'file' : 'download', cancelling: false,
      progress: file ? { stage: 'upload', done: 0, total: file.size } : { stage: 'queued', done: 0, total: 1 },
    });
    await this.settle(id, controller, () =>
      this.client.install({
        id: job, model: id, acceptLicense: this.current.accepted[id] === true, file,
        signal: controller.signal, progress: (p) => this.progress(id, p),
      }),
    );
  }

  /** Follows an install the server is already running (started in another window, or before a reload). */
  private async follow(id: string, job: string): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(id, controller);
    this.setRecord('runs', id, { job, source: 'resumed', cancelling: false, progress: { stage: 'queued', done: 0, total: 1 } });
    await this.settle(id, controller, () => this.client.resume({ id: job, signal: controller.signal, progress: (p) => this.progress(id, p) }));
  }

  private progress(id: string, progress: InstallProgress): void {
    const run = this.current.runs[id];
    if (run) this.setRecord('runs', id, { ...run, progress });
  }

  private async settle(id: string, controller: AbortController, work: () => Promise<{ cards: string[] }>): Promise<void> {
    try {
      const { cards } = await work();
      await this.hooks.onRegistryChanged({ installed: cards });
      this.setRecord('installedNow', id, true);
      await this.load();
    } catch (err) {
      if (controller.signal.reason === DETACH) return;
      const e = err instanceof InstallError ? err : null;
      if (e?.kind !== 'cancelled') this.setRecord('failures', id, failureText(err));
      if (e?.kind === 'unpaired' || e?.kind === 'offline') this.set({ connection: connectionProblem(err) });
      else void this.load(); // the entry's state on the server (a cancel removed partial files)
    } finally {
      if (this.controllers.get(id) === controller) this.controllers.delete(id);
      this.setRecord('runs', id, undefined);
    }
  }

  cancel(id: string): void {
    const run = this.current.runs[id];
    if (!run || run.cancelling) return;
    this.setRecord('runs', id, { ...run, cancelling: true });
    const controller = this.controllers.get(id);
    if (controller) controller.abort();
    else void this.client.cancel(run.job);
  }

  remove(id: string): void {
    void this.removeNow(id);
  }

  async removeNow(id: string): Promise<void> {
    const entry = this.current.entries.find((e) => e.id === id);
    if (!entry || this.current.removing[id]) return;
    this.setRecord('removing', id, true);
    this.setRecord('failures', id, undefined);
    try {
      await this.client.remove(id);
      this.setRecord('installedNow', id, undefined);
      await this.hooks.onRegistryChanged({ removed: entry.cards });
    } catch (err) {
      this.setRecord('failures', id, failureText(err));
    } finally {
      this.setRecord('removing', id, undefined);
      await this.load();
    }
  }

  /**
   * Stops following (another server was chosen, or the UI is going away). Installs past their upload go on on the
   * server (a later window follows them again); an upload cannot go on without this window, so it is cancelled.
   */
  dispose(): void {
    this.loading?.abort();
    for (const [id, controller] of this.controllers) {
      const uploading = this.current.runs[id]?.progress.stage === 'upload' && this.current.runs[id]?.source === 'file';
      controller.abort(uploading ? undefined : DETACH);
    }
    this.disposed = true;
    this.listeners.clear();
  }
}

/** The connection problem an error means, in plain words. */
export function connectionProblem(err: unknown): Connection {
  const e = err instanceof InstallError ? err : null;
  const message = err instanceof Error ? err.message : String(err);
  switch (e?.kind) {
    case 'offline':
      return { state: 'offline', message };
    case 'unpaired':
      return { state: 'unpaired', message };
    case 'unsupported':
      return { state: 'unsupported', message };
    default:
      return { state: 'error', message };
  }
}

/** A failure as shown under an entry: the server's words; a lost connection says what to do. */
export function failureText(err: unknown): string {
  const e = err instanceof InstallError ? err : null;
  if (e?.kind === 'offline') return 'Lost the connection to Frontier on this computer. Check it is still running (npm start), then Retry.';
  if (e?.kind === 'unpaired') return 'Frontier did not accept the pairing code: pair again (Settings → Pairing code), then Retry.';
  return err instanceof Error ? err.message : String(err);
}

/** Binds a store for this server to Preact; a new server (URL or code) gets a new store. */
export function useOfficialModels(opts: { serverUrl: string; token: string; active: boolean; onRegistryChanged: OfficialHooks['onRegistryChanged'] }): {
  state: OfficialState;
  actions: OfficialActions;
} {
  const hooks = useRef(opts.onRegistryChanged);
  hooks.current = opts.onRegistryChanged;
  const store = useMemo(() => {
    if (!opts.active) return null;
    let client: InstallClient;
    try {
      client = createInstallClient({ baseUrl: opts.serverUrl, token: opts.token || undefined });
    } catch (err) {
      client = unusableClient(err); // a server URL that is not one: the list says so
    }
    return new OfficialModelsStore(client, { onRegistryChanged: (change) => hooks.current(change) });
  }, [opts.serverUrl, opts.token, opts.active]);
  const [state, setState] = useState<OfficialState>(store?.state ?? IDLE);
  useEffect(() => {
    if (!store) {
      setState(IDLE);
      return;
    }
    setState(store.state);
    const off = store.subscribe(setState);
    void store.load();
    return () => {
      off();
      store.dispose();
    };
  }, [store]);
  return { state, actions: store ?? NO_ACTIONS };
}

const IDLE: OfficialState = { connection: { state: 'loading' }, entries: [], runs: {}, failures: {}, accepted: {}, removing: {}, installedNow: {} };
const noop = () => {};
const NO_ACTIONS: OfficialActions = { reload: noop, install: noop, cancel: noop, retry: noop, remove: noop, accept: noop, dismissFailure: noop, acknowledge: noop };

/** A client for a server URL that cannot be used: every call says why. */
function unusableClient(err: unknown): InstallClient {
  const fail = () => Promise.reject(new InstallError('unsupported', err instanceof Error ? err.message : String(err)));
  return { where: '', catalogue: fail, install: fail, resume: fail, cancel: () => Promise.resolve(), remove: fail };
}
