// The playground page: a simulated host around the very same dist/figma/ui.html that Figma loads, put in a
// sandboxed srcdoc iframe so its origin is "null" exactly as in Figma's plugin iframe.
// Bundled for the browser by the build (plugin/build.ts) to dist/playground/playground.js.
import { MAX_IMAGE_EDGE } from '../../plugin/messages.ts';
import { bytesToBase64 } from '../../worker/base64.ts';
import { bitmapFromBytes, rgbaOf, type Bitmap } from './bitmap.ts';
import { PlaygroundDocument } from './document.ts';
import { SimulatedHost, type LogEntry } from './host.ts';
import { applyPairingLink, loadSettings, saveSettings } from './settings.ts';
import { DEFAULT_UI_URL, uiUrlFrom } from './ui-url.ts';
import { CanvasView } from './view.ts';
import { ZOOM_STEPS } from './viewport.ts';
import { openClip, VIDEO_TYPES, type Clip } from './video.ts';

const THEME_KEY = 'frontier.playground.theme';

/** What tests (and curious developers) can drive from the console. */
export interface PlaygroundHook {
  ready: Promise<void>;
  nodes(): { id: string; name: string; x: number; y: number; width: number; height: number; pluginData: Record<string, string>; video: boolean }[];
  selection(): { nodes: string[]; region: { id: string; nodeId: string; x: number; y: number; width: number; height: number } | null };
  select(ids: string[]): void;
  openSample(name: string): Promise<string>;
  openImage(name: string, bytes: Uint8Array, type?: string): Promise<string>;
  /** Opens a clip (MP4, MOV, WebM) as a video node and selects it. */
  openVideo(name: string, bytes: Uint8Array, type?: string): Promise<string>;
  /** A video node's clip, base64 (for tests to probe it). */
  clip(nodeId: string): { mime: string; base64: string } | null;
  selectRegion(nodeId: string, x: number, y: number, width: number, height: number): string;
  undo(): string | undefined;
  redo(): string | undefined;
  /** Straight RGBA of a node's bitmap, or of `rect` within it (keep it small: the array crosses to tests as JSON). */
  pixels(nodeId: string, rect?: { x: number; y: number; width: number; height: number }): Promise<{ width: number; height: number; data: number[] }>;
  messages(): LogEntry[];
  /** The part of the document the canvas shows (document units) and its zoom: what a result must land inside. */
  viewport(): { x: number; y: number; width: number; height: number; zoom: number };
  toasts(): { message: string; error: boolean }[];
  /** Each toast shown, with its text as last shown (several placements of one run update one toast). */
  toastsShown(): string[];
  setTheme(mode: 'light' | 'dark'): void;
}

declare global {
  interface Window {
    playground: PlaygroundHook;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`playground page is missing #${id}`);
  return e as T;
}

const iframe = byId<HTMLIFrameElement>('ui');
const uiStatus = byId('ui-status');
const uiError = byId('ui-error');
const undoButton = byId<HTMLButtonElement>('undo');
const redoButton = byId<HTMLButtonElement>('redo');
const themeButton = byId<HTMLButtonElement>('theme');
const canvasArea = byId('canvas');

const toastLog: { message: string; error: boolean }[] = [];
/** The toast elements shown, in order (they go after a few seconds; tests read what they said from here). */
const shownToasts: HTMLElement[] = [];
/** The "Placed …" toast on screen and how many placements it stands for: one run that places several results (a
 *  batch, In-betweens' frames, a grid of variations) shows one toast that counts them, not a stack. */
let placedToast: { element: HTMLElement; count: number; timer: ReturnType<typeof setTimeout> } | null = null;
function toast(message: string, error = false): void {
  toastLog.push({ message, error });
  const placing = !error && message.startsWith('Placed ');
  if (placing && placedToast?.element.isConnected) {
    placedToast.count++;
    placedToast.element.textContent = `Placed ${placedToast.count} results, the last “${message.replace(/^Placed “|”$/g, '')}”`;
    clearTimeout(placedToast.timer);
    const element = placedToast.element;
    placedToast.timer = setTimeout(() => element.remove(), 3500);
    return;
  }
  const t = document.createElement('div');
  t.className = error ? 'toast error' : 'toast';
  t.textContent = message;
  byId('toasts').append(t);
  shownToasts.push(t);
  const timer = setTimeout(() => t.remove(), error ? 7000 : 3500);
  if (placing) placedToast = { element: t, count: 1, timer };
}

// Theme: the page's own look, mirrored to the UI with the `theme` message (as Figma's themeColors does).
let theme: 'light' | 'dark' = (localStorage.getItem(THEME_KEY) as 'light' | 'dark' | null) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
function applyTheme(): void {
  document.documentElement.dataset.theme = theme;
  themeButton.textContent = theme === 'dark' ? 'Light' : 'Dark';
}
applyTheme();

// A link from npm start carries the pairing code in its fragment: keep it, then take it out of the address bar
// (and so out of the history, bookmarks and screenshots).
if (applyPairingLink(localStorage, location.origin, location.hash)) history.replaceState(null, '', location.pathname + location.search);

const doc = new PlaygroundDocument<Bitmap, Clip>();
const logList = byId('log');
const host = new SimulatedHost({
  doc,
  post: (data) => iframe.contentWindow?.postMessage(data, '*'),
  toast,
  loadSettings: () => loadSettings(localStorage, location.origin),
  saveSettings: (settings) => saveSettings(localStorage, settings),
  theme: () => theme,
  reveal: (nodeId) => view.reveal(nodeId),
  viewArea: () => view.usable(),
  onLog: (entry) => {
    const li = document.createElement('li');
    const dir = document.createElement('span');
    dir.className = 'dir';
    dir.textContent = entry.direction === 'ui→host' ? '→ ' : '← ';
    li.append(dir, `${entry.type} ${entry.summary}`);
    li.title = `${entry.direction} ${entry.type} ${entry.summary}`;
    logList.prepend(li);
    while (logList.children.length > 60) logList.lastElementChild?.remove();
  },
});

function setTheme(mode: 'light' | 'dark'): void {
  theme = mode;
  localStorage.setItem(THEME_KEY, theme);
  applyTheme();
  host.sendTheme();
}
themeButton.addEventListener('click', () => setTheme(theme === 'dark' ? 'light' : 'dark'));

const zoomSelect = byId<HTMLSelectElement>('zoom');
/** Shows `zoom` in the zoom menu, with an extra entry ("37%") while it is none of the steps. */
function showZoom(zoom: number): void {
  zoomSelect.querySelector('option[data-fit]')?.remove();
  if (!ZOOM_STEPS.includes(zoom)) {
    const fit = new Option(`${Math.round(zoom * 100)}%`, String(zoom));
    fit.dataset.fit = '';
    zoomSelect.prepend(fit);
  }
  zoomSelect.value = String(zoom);
}
const view = new CanvasView(
  doc,
  canvasArea,
  byId('world'),
  byId('empty-hint'),
  byId('inspector'),
  (nodeId) => {
    doc.restoreOriginal(nodeId);
    toast('Original image restored (undo to bring the result back)');
  },
  showZoom,
);
function refresh(): void {
  view.render();
  undoButton.disabled = !doc.canUndo;
  redoButton.disabled = !doc.canRedo;
  undoButton.title = doc.undoLabel ? `Undo ${doc.undoLabel} (Ctrl/Cmd+Z)` : 'Nothing to undo';
  redoButton.title = doc.redoLabel ? `Redo ${doc.redoLabel} (Shift+Ctrl/Cmd+Z)` : 'Nothing to redo';
}
doc.onChange(refresh);
refresh();

// Only messages from our iframe are the UI's; anything else on the page is ignored.
window.addEventListener('message', (event) => {
  if (event.source !== iframe.contentWindow) return;
  host.receive(event.data).catch((err: unknown) => toast(`Host error: ${(err as Error).message}`, true));
});

host.ready.then(() => {
  uiStatus.textContent = 'UI ready';
  uiStatus.dataset.state = 'ready';
});

async function loadUi(): Promise<void> {
  const url = uiUrlFrom(location.search);
  byId('ui-source').textContent = url === DEFAULT_UI_URL ? '' : url;
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (err) {
    return showUiError(`Could not fetch ${url}: ${(err as Error).message}. Is the Frontier server still running?`);
  }
  if (!response.ok) {
    return showUiError(
      `Could not load the plugin UI from ${url} (HTTP ${response.status}).\n\n` +
        (url === DEFAULT_UI_URL ? 'Run `npm run build` to build dist/figma/ui.html, then reload.' : 'Check the ?ui= path.'),
    );
  }
  // srcdoc + sandbox without allow-same-origin: an opaque "null" origin, like Figma's plugin iframe.
  iframe.srcdoc = await response.text();
}

function showUiError(message: string): void {
  iframe.hidden = true;
  uiError.hidden = false;
  uiError.textContent = message;
  uiStatus.textContent = 'UI missing';
  uiStatus.dataset.state = 'error';
}

async function openImage(name: string, bytes: Uint8Array, type = 'image/png'): Promise<string> {
  const bitmap = await bitmapFromBytes(bytes, type);
  if (bitmap.width > MAX_IMAGE_EDGE || bitmap.height > MAX_IMAGE_EDGE) {
    throw new Error(`${name} is ${bitmap.width}×${bitmap.height}: the host takes images up to ${MAX_IMAGE_EDGE} px per edge.`);
  }
  // Like a file dropped on Figma's canvas: placed where the user is looking (selected), or shown wherever it went.
  const node = doc.addImage(name, bitmap, undefined, { area: view.usable(), select: true });
  view.reveal(node.id);
  return node.id;
}

async function openVideo(name: string, bytes: Uint8Array, type = 'video/mp4'): Promise<string> {
  const { clip, poster } = await openClip(bytes, type);
  const node = doc.addImage(name, poster, clip, { area: view.usable(), select: true });
  view.reveal(node.id);
  return node.id;
}

async function openSample(name: string): Promise<string> {
  const response = await fetch(`/samples/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`Sample ${name}: HTTP ${response.status} ${await response.text()}`);
  return openImage(name, new Uint8Array(await response.arrayBuffer()), response.headers.get('Content-Type') ?? 'image/png');
}

async function openFiles(files: Iterable<File>): Promise<void> {
  for (const file of files) {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (VIDEO_TYPES.includes(file.type)) await openVideo(file.name, bytes, file.type);
      else await openImage(file.name, bytes, file.type || 'image/png');
    } catch (err) {
      toast((err as Error).message, true);
    }
  }
}

const fileInput = byId<HTMLInputElement>('file');
fileInput.addEventListener('change', () => {
  void openFiles(fileInput.files ?? []);
  fileInput.value = '';
});
canvasArea.addEventListener('dragover', (e) => {
  e.preventDefault();
  canvasArea.classList.add('dropping');
});
canvasArea.addEventListener('dragleave', () => canvasArea.classList.remove('dropping'));
canvasArea.addEventListener('drop', (e) => {
  e.preventDefault();
  canvasArea.classList.remove('dropping');
  void openFiles([...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/') || VIDEO_TYPES.includes(f.type)));
});

const sampleSelect = byId<HTMLSelectElement>('samples');
fetch('/samples')
  .then((r) => r.json() as Promise<{ samples: string[] }>)
  .then(({ samples }) => {
    for (const name of samples) sampleSelect.append(new Option(name, name));
  })
  .catch(() => toast('Could not list the sample photos', true));
sampleSelect.addEventListener('change', () => {
  const name = sampleSelect.value;
  sampleSelect.value = '';
  if (name) openSample(name).catch((err: unknown) => toast((err as Error).message, true));
});

function undo(): string | undefined {
  const label = doc.undo();
  if (label) toast(`Undid ${label}`);
  return label;
}
function redo(): string | undefined {
  const label = doc.redo();
  if (label) toast(`Redid ${label}`);
  return label;
}
undoButton.addEventListener('click', undo);
redoButton.addEventListener('click', redo);
window.addEventListener('keydown', (e) => {
  if (!(e.ctrlKey || e.metaKey) || (e.target as HTMLElement).closest('input, select, textarea')) return;
  const key = e.key.toLowerCase();
  if (key === 'z' && !e.shiftKey) undo();
  else if ((key === 'z' && e.shiftKey) || key === 'y') redo();
  else return;
  e.preventDefault();
});

zoomSelect.addEventListener('change', () => {
  view.setZoom(Number(zoomSelect.value));
  showZoom(view.zoom);
});

window.playground = {
  ready: host.ready,
  nodes: () => doc.nodes.map(({ id, name, x, y, width, height, pluginData, clip }) => ({ id, name, x, y, width, height, pluginData: { ...pluginData }, video: !!clip })),
  selection: () => ({ nodes: [...doc.selection], region: doc.region ? { ...doc.region } : null }),
  select: (ids) => doc.select(ids),
  openSample,
  openImage,
  openVideo,
  clip(nodeId) {
    const clip = doc.node(nodeId)?.clip;
    if (!clip) return null;
    return { mime: clip.mime, base64: bytesToBase64(clip.bytes) };
  },
  selectRegion: (nodeId, x, y, width, height) => doc.selectRegion(nodeId, x, y, width, height).id,
  undo,
  redo,
  async pixels(nodeId, rect) {
    const node = doc.node(nodeId);
    if (!node) throw new Error(`No node ${nodeId}`);
    const rgba = await rgbaOf(node.bitmap, rect);
    return { width: rgba.width, height: rgba.height, data: Array.from(rgba.data) };
  },
  messages: () => [...host.log],
  toasts: () => [...toastLog],
  toastsShown: () => shownToasts.map((t) => t.textContent ?? ''),
  viewport: () => ({ ...view.visible(), zoom: view.zoom }),
  setTheme,
};

void loadUi();
