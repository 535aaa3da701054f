// A small fake of the parts of UXP's `photoshop` and `uxp` modules that plugin/photoshop uses, written from
// @types/photoshop (DefinitelyTyped: dom/ImagingModule, CoreModules, Document, Layer, Constants) and Adobe's UXP
// reference. It enforces the rules the real host enforces, so a bridge that passes against it does not trip them:
//   - document writes (createPixelLayer, putPixels, layer name/visibility) outside executeAsModal throw, with
//     Photoshop's "…only allowed from inside a modal scope" message; one modal scope at a time
//     ("host is in a modal state"), and `busy` stands for another plugin or dialog holding Photoshop.
//   - executeAsModal's context: isCancelled / onCancel (driven by `cancelWhen`), reportProgress (0..1 only),
//     hostControl.suspendHistory({ documentID, name }) → id, resumeHistory(id, commit): one history step for
//     everything in between, or (commit false) everything since the suspension dropped.
//   - imaging: getPixels trims to the layer's pixels and returns the trimmed sourceBounds; a Background layer has no
//     alpha (3 components); componentSize follows the document unless asked (16-bit data runs 0..32768); without
//     layerID it returns the merged image of the visible layers; putPixels needs a pixel layer and image data of the
//     document's depth and colour space, 16-bit samples within 0..32768; image data must be disposed once
//     (`liveImageData` counts what was not); createImageDataFromBuffer checks the buffer length and honours fullRange.
//   - the selection: a grey level per document pixel (255 selected, 0 not, feathered edges in between) within its
//     bounds, which may pass the canvas (Selection.bounds, PS 25). getSelection returns one Grayscale component
//     ("Gray Gamma 2.2"), cut to the requested bounds, the selection's bounds and the canvas, with those bounds as
//     sourceBounds, scaled to targetSize when given. Adobe's reference does not state the depth (the fake answers 8
//     bits, 16 in a 16-bit document, so both paths are exercised) nor what comes back with no selection (the fake
//     answers zeros over the requested bounds; the panel never asks without one: it checks Selection.bounds first).
//   - secureStorage: values come back as Uint8Array; empty values are refused; a missing key rejects.
//   - the save dialog (localFileSystem.getFileForSaving): `saveDialog` answers as the designer would (a path, or null
//     for Cancel); `types` must be extensions without the dot. The file it returns writes text with formats.utf8 and
//     an ArrayBuffer (not a typed array) with formats.binary; what was written is in `savedFiles`.
//   - app.open(file): modal only; opens a written MP4/MOV (an `ftyp` box first, as Photoshop's importer needs) as a
//     new, front document of the size its track header (tkhd) says, holding one video layer named for the file.
//     Modelled loosely: Photoshop puts that layer in a "Video Group"; frames and the timeline are not modelled.
//   - the <webview> bridge carries JSON only (typed arrays, functions, undefined throw) and each message at most
//     `maxBridgeMessageChars`; what arrives is a parsed copy, wrapped in an event envelope.
// Not modelled: layer effects, masks, blend modes and opacity in the composite, colour management (pixels are
// stored as 8-bit RGBA whatever the document's mode), pyramid levels, real history panel states.
import type { HostMessage, UiMessage } from '../../plugin/messages.ts';
import type { ExecutionContext, PhotoshopModule, PsBounds, PsDocument, PsImageData, PsLayer, UxpModule, WebviewLike } from '../../plugin/photoshop/api.ts';
import { startPhotoshopBridge, type PhotoshopBridge, type ThemeSource } from '../../plugin/photoshop/bridge.ts';
import { WireReceiver, WireSender } from '../../plugin/photoshop/wire.ts';

export const PHOTOSHOP_VERSION = '26.0.0';

type Rgba = [number, number, number, number];
export type PixelFill = Rgba | ((x: number, y: number) => Rgba);

export interface LayerInit {
  name: string;
  /** Constants.LayerKind; "pixel" by default. */
  kind?: string;
  /** Where pixels are (document coordinates); omitted: an empty layer. */
  rect?: { left: number; top: number; width: number; height: number };
  /** Colour of each pixel in `rect`, from document coordinates. */
  fill?: PixelFill;
  visible?: boolean;
  children?: LayerInit[];
}

export interface DocumentInit {
  title?: string;
  path?: string;
  width: number;
  height: number;
  mode?: string;
  bitsPerChannel?: string;
  /** A Background layer filled with this colour (opaque), at the bottom. */
  background?: PixelFill;
  /** Top to bottom, as in the Layers panel. */
  layers?: LayerInit[];
}

interface PixelStore {
  left: number;
  top: number;
  width: number;
  height: number;
  /** RGBA 8-bit. */
  data: Uint8Array;
}

const modalError = (event: string) =>
  new Error(`Event: ${event} may modify the state of Photoshop. Such events are only allowed from inside a modal scope`);

function intersect(a: PsBounds, b: PsBounds): PsBounds | null {
  const r = { left: Math.max(a.left, b.left), top: Math.max(a.top, b.top), right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom) };
  return r.right > r.left && r.bottom > r.top ? r : null;
}

function storeFrom(rect: { left: number; top: number; width: number; height: number }, fill: PixelFill): PixelStore {
  const data = new Uint8Array(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const c = typeof fill === 'function' ? fill(rect.left + x, rect.top + y) : fill;
      data.set(c, (y * rect.width + x) * 4);
    }
  }
  return { ...rect, data };
}

// ---------------------------------------------------------------------------------------------- layers

export class FakeLayer implements PsLayer {
  store: PixelStore | null = null;
  children: FakeLayer[] | null = null;
  private _name: string;
  private _visible: boolean;

  constructor(
    private readonly doc: FakeDocument,
    readonly id: number,
    name: string,
    readonly kind: string,
    readonly isBackgroundLayer = false,
    visible = true,
  ) {
    this._name = name;
    this._visible = visible;
  }

  get name(): string {
    return this._name;
  }
  set name(value: string) {
    this.doc.mutate('set', 'Rename Layer', () => (this._name = String(value)));
  }
  get visible(): boolean {
    return this._visible;
  }
  set visible(value: boolean) {
    this.doc.mutate(value ? 'show' : 'hide', value ? 'Show Layer' : 'Hide Layer', () => (this._visible = !!value));
  }
  get layers(): FakeLayer[] | null {
    return this.children;
  }
  /** Layer.selected: whether it is one of the document's active layers. Setting it changes the Layers panel's
   *  selection (adding, or taking away, this layer), a state change allowed only in a modal scope; not a history step. */
  get selected(): boolean {
    return this.doc.activeIds.includes(this.id);
  }
  set selected(value: boolean) {
    this.doc.changeSelection(value ? [...new Set([...this.doc.activeIds, this.id])] : this.doc.activeIds.filter((id) => id !== this.id));
  }
  /** Layer.move (PS 23.0): restack relative to another layer of the same document. */
  move(relativeObject: PsLayer, insertLocation: 'placeBefore' | 'placeAfter' | 'placeInside'): void {
    const target = this.doc.layer(relativeObject.id);
    if (!target || target === this) throw new Error('move needs another layer of the same document');
    this.doc.mutate('move', 'Layer Order', () => {
      const from = this.doc.siblingsOf(this);
      from.splice(from.indexOf(this), 1);
      if (insertLocation === 'placeInside') {
        if (!target.children) throw new Error('placeInside needs a group');
        target.children.unshift(this);
        return;
      }
      const to = this.doc.siblingsOf(target);
      to.splice(to.indexOf(target) + (insertLocation === 'placeAfter' ? 1 : 0), 0, this);
    });
  }
  get bounds(): PsBounds {
    return this.boundsNoEffects;
  }
  /** Bounding box of the non-transparent pixels; all zero when there are none. */
  get boundsNoEffects(): PsBounds {
    const s = this.store;
    if (!s) return { left: 0, top: 0, right: 0, bottom: 0 };
    let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        if (s.data[(y * s.width + x) * 4 + 3] === 0) continue;
        left = Math.min(left, x);
        right = Math.max(right, x + 1);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y + 1);
      }
    }
    if (left === Infinity) return { left: 0, top: 0, right: 0, bottom: 0 };
    return { left: s.left + left, top: s.top + top, right: s.left + right, bottom: s.top + bottom };
  }

  /** Straight RGBA of `rect` (document coordinates), transparent where the layer has no pixels. */
  pixels(rect: PsBounds): Uint8Array {
    const width = rect.right - rect.left;
    const height = rect.bottom - rect.top;
    const out = new Uint8Array(width * height * 4);
    const s = this.store;
    if (!s) return out;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sx = rect.left + x - s.left;
        const sy = rect.top + y - s.top;
        if (sx < 0 || sy < 0 || sx >= s.width || sy >= s.height) continue;
        out.set(s.data.subarray((sy * s.width + sx) * 4, (sy * s.width + sx) * 4 + 4), (y * width + x) * 4);
      }
    }
    return out;
  }

  clone(doc: FakeDocument): FakeLayer {
    const copy = new FakeLayer(doc, this.id, this._name, this.kind, this.isBackgroundLayer, this._visible);
    copy.store = this.store ? { ...this.store, data: this.store.data.slice() } : null;
    copy.children = this.children ? this.children.map((c) => c.clone(doc)) : null;
    return copy;
  }
}

// ---------------------------------------------------------------------------------------------- documents

interface Snapshot {
  layers: FakeLayer[];
  active: number[];
}

interface Suspension {
  id: number;
  name: string;
  before: Snapshot;
  changed: boolean;
}

export class FakeDocument implements PsDocument {
  layers: FakeLayer[] = [];
  activeIds: number[] = [];
  /** The selection: its bounds (document pixels, may pass the canvas) and its grey level per document pixel. */
  selectionArea: { bounds: PsBounds; level: (x: number, y: number) => number } | null = null;
  /** Names of history steps, oldest first (the document's opening state is not listed). */
  readonly history: { name: string; before: Snapshot }[] = [];
  suspension: Suspension | null = null;
  closed = false;

  constructor(
    private readonly fake: FakePhotoshop,
    readonly id: number,
    readonly title: string,
    readonly path: string,
    readonly width: number,
    readonly height: number,
    readonly mode: string,
    readonly bitsPerChannel: string,
  ) {}

  get activeLayers(): FakeLayer[] {
    return this.activeIds.map((id) => this.layer(id)).filter((l): l is FakeLayer => l !== null);
  }
  get selection(): { readonly bounds: PsBounds | null } {
    const area = () => this.selectionArea;
    return {
      get bounds() {
        const a = area();
        return a ? { ...a.bounds } : null;
      },
    };
  }
  get historyNames(): string[] {
    return this.history.map((h) => h.name);
  }
  get depth(): 8 | 16 | 32 {
    return this.bitsPerChannel === 'bitDepth16' ? 16 : this.bitsPerChannel === 'bitDepth32' ? 32 : 8;
  }

  /** Every layer, depth first, top to bottom. */
  allLayers(): FakeLayer[] {
    const out: FakeLayer[] = [];
    const walk = (list: FakeLayer[]) => list.forEach((l) => (out.push(l), l.children && walk(l.children)));
    walk(this.layers);
    return out;
  }
  layer(id: number): FakeLayer | null {
    return this.allLayers().find((l) => l.id === id) ?? null;
  }
  layerNamed(name: string): FakeLayer {
    const layer = this.allLayers().find((l) => l.name === name);
    if (!layer) throw new Error(`fake: no layer named ${name}`);
    return layer;
  }

  async createPixelLayer(options: { name?: string; opacity?: number; blendMode?: string; fillNeutral?: boolean } = {}): Promise<FakeLayer | null> {
    this.fake.assertOpen(this);
    let created: FakeLayer | null = null;
    this.mutate('make', 'New Layer', () => {
      created = new FakeLayer(this, this.fake.nextLayerId(), options.name ?? `Layer ${this.allLayers().length + 1}`, 'pixel');
      // New layers go directly above the topmost active layer, in its group; then they are the active layer.
      const top = this.activeLayers[0];
      const siblings = top ? this.siblingsOf(top) : this.layers;
      const index = top ? siblings.indexOf(top) : 0;
      siblings.splice(Math.max(0, index), 0, created);
      this.activeIds = [created.id];
    });
    this.fake.emit('make', { _obj: 'make', layerID: [created!.id] });
    return created;
  }

  siblingsOf(layer: FakeLayer): FakeLayer[] {
    const find = (list: FakeLayer[]): FakeLayer[] | null => {
      if (list.includes(layer)) return list;
      for (const l of list) {
        const inner = l.children ? find(l.children) : null;
        if (inner) return inner;
      }
      return null;
    };
    return find(this.layers) ?? this.layers;
  }

  /** Runs a document change: only inside a modal scope, recorded as a history step (or into the suspended one). */
  mutate(event: string, stepName: string, change: () => void): void {
    if (!this.fake.inModal) throw modalError(event);
    this.fake.assertOpen(this);
    const before = this.suspension ? null : this.snapshot();
    change();
    if (this.suspension) this.suspension.changed = true;
    else this.history.push({ name: stepName, before: before! });
  }

  snapshot(): Snapshot {
    return { layers: this.layers.map((l) => l.clone(this)), active: [...this.activeIds] };
  }
  restore(snapshot: Snapshot): void {
    this.layers = snapshot.layers.map((l) => l.clone(this));
    this.activeIds = [...snapshot.active];
  }

  /** Edit ▸ Undo: reverts the last history step. */
  undo(): string | null {
    const step = this.history.pop();
    if (!step) return null;
    this.restore(step.before);
    this.fake.emit('historyStateChanged', { _obj: 'historyStateChanged' });
    return step.name;
  }

  /** A plugin changes which layers are selected (Layer.selected): modal only, no history step. */
  changeSelection(ids: number[]): void {
    if (!this.fake.inModal) throw modalError('select');
    this.fake.assertOpen(this);
    this.activeIds = ids;
    this.fake.emit('select', { _obj: 'select', layerID: ids });
  }

  // ---- user actions (as the user does them in Photoshop, outside any plugin scope)

  select(...ids: number[]): void {
    this.activeIds = ids;
    this.fake.emit('select', { _obj: 'select', layerID: ids });
  }
  /** A rectangular marquee (every pixel fully selected), or none. */
  setMarquee(bounds: PsBounds | null): void {
    this.setSelection(bounds, () => 255);
  }
  /** Any selection (elliptical, feathered, anti-aliased): `level` (0..255) for each document pixel inside `bounds`. */
  setSelection(bounds: PsBounds | null, level: (x: number, y: number) => number): void {
    this.selectionArea = bounds ? { bounds: { ...bounds }, level } : null;
    this.fake.emit('set', { _obj: 'set', _target: [{ _ref: 'channel', _property: 'selection' }] });
  }
}

// ---------------------------------------------------------------------------------------------- image data

export class FakeImageData implements PsImageData {
  disposed = false;
  readonly chunky = true;
  readonly type = 'image/uncompressed';
  constructor(
    private readonly fake: FakePhotoshop,
    readonly width: number,
    readonly height: number,
    readonly components: number,
    readonly componentSize: 8 | 16 | 32,
    readonly colorSpace: string,
    readonly colorProfile: string,
    /** Chunky samples. */
    readonly samples: Uint8Array | Uint16Array | Float32Array,
  ) {
    fake.liveImageData++;
  }
  get hasAlpha(): boolean {
    return this.colorSpace === 'Grayscale' ? this.components === 2 : this.components === 4;
  }
  get pixelFormat(): string {
    const base = this.colorSpace === 'Grayscale' ? 'Grayscale' : this.colorSpace === 'Lab' ? 'LAB' : 'RGB';
    return this.hasAlpha ? `${base}A`.replace('GrayscaleA', 'GrayscaleAlpha').replace('LABA', 'LABAlpha') : base;
  }
  async getData(options: { chunky?: boolean; fullRange?: boolean } = {}): Promise<Uint8Array | Uint16Array | Float32Array> {
    if (this.disposed) throw new Error('The image data has been disposed');
    let samples = this.samples.slice();
    if (this.componentSize === 16 && options.fullRange) samples = Uint16Array.from(samples, (v) => Math.round((v * 65535) / 32768));
    if (options.chunky === false) {
      const planar = new (samples.constructor as Uint8ArrayConstructor)(samples.length) as typeof samples;
      const n = this.width * this.height;
      for (let i = 0; i < n; i++) for (let c = 0; c < this.components; c++) planar[c * n + i] = samples[i * this.components + c];
      return planar;
    }
    return samples;
  }
  dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      this.fake.liveImageData--;
    }
    return Promise.resolve();
  }
}

/** 8-bit RGBA → samples of `components` at `componentSize` (16-bit: Photoshop's 0..32768; 32-bit: 0..1). */
function toSamples(rgba: Uint8Array, components: 3 | 4, componentSize: 8 | 16 | 32): Uint8Array | Uint16Array | Float32Array {
  const n = rgba.length / 4;
  const out = componentSize === 8 ? new Uint8Array(n * components) : componentSize === 16 ? new Uint16Array(n * components) : new Float32Array(n * components);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < components; c++) {
      const v = rgba[i * 4 + c];
      out[i * components + c] = componentSize === 8 ? v : componentSize === 16 ? Math.round((v * 32768) / 255) : v / 255;
    }
  }
  return out;
}

function toRgba8(samples: Uint8Array | Uint16Array | Float32Array, components: number, componentSize: 8 | 16 | 32): Uint8Array {
  const n = samples.length / components;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 4; c++) {
      if (c >= components) {
        out[i * 4 + c] = 255;
        continue;
      }
      const v = samples[i * components + c];
      out[i * 4 + c] = componentSize === 8 ? v : componentSize === 16 ? Math.round((v * 255) / 32768) : Math.round(v * 255);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- webview

/** Why `value` is not plain JSON data, or null. */
export function jsonProblem(value: unknown, path = 'message'): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}`;
  if (typeof value !== 'object') return `${path} is a ${typeof value}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}`;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) return `${path}.${key} is undefined`;
    const p = jsonProblem(child, `${path}.${key}`);
    if (p) return p;
  }
  return null;
}

type Listener = (event: unknown) => void;

/**
 * Both ends of a <webview> with enableMessageBridge: the panel's element (postMessage / `message` events) and the
 * page's `window.uxpHost` plus its `message` events. Delivery is asynchronous, JSON only, in order.
 */
export class FakeWebview implements WebviewLike {
  private readonly panelListeners = new Set<Listener>();
  private readonly pageListeners = new Set<Listener>();
  framesToPage = 0;
  framesToPanel = 0;
  /** Characters carried each way (JSON text of every frame): what a message costs the bridge. */
  charsToPage = 0;
  charsToPanel = 0;
  largestMessageChars = 0;

  constructor(readonly maxBridgeMessageChars = 4 * 1024 * 1024) {}

  private carry(value: unknown, direction: string): { copy: unknown; chars: number } {
    const problem = jsonProblem(value);
    if (problem) throw new TypeError(`${direction} carries JSON only: ${problem}`);
    const text = JSON.stringify(value);
    if (text.length > this.maxBridgeMessageChars) throw new RangeError(`${direction}: message of ${text.length} characters is over the bridge's ${this.maxBridgeMessageChars}`);
    this.largestMessageChars = Math.max(this.largestMessageChars, text.length);
    return { copy: JSON.parse(text), chars: text.length };
  }

  /** Panel → page (the element's postMessage). */
  postMessage(message: unknown): void {
    const { copy, chars } = this.carry(message, 'webview.postMessage');
    this.framesToPage++;
    this.charsToPage += chars;
    setTimeout(() => this.pageListeners.forEach((l) => l({ data: copy })), 0);
  }
  addEventListener(type: 'message', listener: Listener): void {
    if (type === 'message') this.panelListeners.add(listener);
  }
  removeEventListener(type: 'message', listener: Listener): void {
    this.panelListeners.delete(listener);
  }

  /** The page's side: what the UI sees as `window.uxpHost`, and its window `message` listeners. */
  readonly page = {
    uxpHost: {
      postMessage: (message: unknown) => {
        const { copy, chars } = this.carry(message, 'window.uxpHost.postMessage');
        this.framesToPanel++;
        this.charsToPanel += chars;
        // UXP hands the panel an event object; the payload sits in `data`, as in a DOM MessageEvent.
        setTimeout(() => this.panelListeners.forEach((l) => l({ type: 'message', data: copy })), 0);
      },
    },
    onMessage: (listener: Listener): (() => void) => {
      this.pageListeners.add(listener);
      return () => this.pageListeners.delete(listener);
    },
  };
}

// ---------------------------------------------------------------------------------------------- storage

export class FakeLocalStorage {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.has(key) ? this.map.get(key)! : null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** What UXP's formats namespace holds: two symbols. */
export const FORMATS = { utf8: Symbol('utf8'), binary: Symbol('binary') };

/** A file the save dialog returned: written as UXP writes (text in utf8, an ArrayBuffer in binary). */
class FakeSavedFile {
  readonly isFile = true;
  constructor(
    private readonly fake: FakePhotoshop,
    readonly nativePath: string,
  ) {}
  get name(): string {
    return this.nativePath.split('/').pop() ?? this.nativePath;
  }
  async read(): Promise<ArrayBuffer> {
    const bytes = this.fake.savedFiles.get(this.nativePath);
    if (!bytes) throw new Error(`File not found: ${this.nativePath}`);
    return bytes.slice().buffer;
  }
  async write(data: unknown, options: { format?: unknown; append?: boolean } = {}): Promise<number> {
    const format = options.format ?? FORMATS.utf8;
    if (format !== FORMATS.utf8 && format !== FORMATS.binary) throw new TypeError('write: format must be formats.utf8 or formats.binary');
    let bytes: Uint8Array;
    if (format === FORMATS.binary) {
      if (!(data instanceof ArrayBuffer)) throw new TypeError('write in formats.binary takes an ArrayBuffer');
      bytes = new Uint8Array(data.slice(0));
    } else {
      if (typeof data !== 'string') throw new TypeError('write in formats.utf8 takes a string');
      bytes = new TextEncoder().encode(data);
    }
    this.fake.savedFiles.set(this.nativePath, bytes);
    return bytes.length;
  }
}

/** The frame size in an MP4/MOV's first video track header (tkhd, 16.16 fixed point), or null when it is no MP4. */
export function mp4Size(bytes: Uint8Array): { width: number; height: number } | null {
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 8 || text(4) !== 'ftyp') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 4; i + 4 <= bytes.length; i++) {
    if (text(i) !== 'tkhd') continue;
    const start = i - 4;
    const at = start + (bytes[i + 4] === 1 ? 96 : 84);
    if (at + 8 > bytes.length) return null;
    const width = Math.round(view.getUint32(at) / 65536);
    const height = Math.round(view.getUint32(at + 4) / 65536);
    if (width > 0 && height > 0) return { width, height }; // an audio track's header says 0×0: look further
  }
  return null;
}

/** The smallest bytes Photoshop (and mp4Size) takes as an MP4 of width×height: an ftyp box and one track header. */
export function fakeMp4(width: number, height: number): Uint8Array {
  const box = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(8 + body.length);
    new DataView(out.buffer).setUint32(0, out.length);
    out.set(Array.from(type, (c) => c.charCodeAt(0)), 4);
    out.set(body, 8);
    return out;
  };
  const tkhd = new Uint8Array(84);
  new DataView(tkhd.buffer).setUint32(76, width * 65536);
  new DataView(tkhd.buffer).setUint32(80, height * 65536);
  const ftyp = box('ftyp', Uint8Array.from('isom\0\0\0\0isomavc1', (c) => c.charCodeAt(0)));
  const moov = box('moov', box('trak', box('tkhd', tkhd)));
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp);
  out.set(moov, ftyp.length);
  return out;
}

class FakeFile {
  readonly isFile = true;
  constructor(
    private readonly files: Map<string, string>,
    readonly name: string,
  ) {}
  async read(): Promise<string> {
    if (!this.files.has(this.name)) throw new Error(`File not found: ${this.name}`);
    return this.files.get(this.name)!;
  }
  async write(data: string): Promise<number> {
    if (typeof data !== 'string') throw new TypeError('fake: write takes text (formats.utf8)');
    this.files.set(this.name, data);
    return data.length;
  }
}

// ---------------------------------------------------------------------------------------------- the host

export interface ModalEvent {
  commandName: string;
  progress?: number;
}

export class FakePhotoshop {
  readonly documents: FakeDocument[] = [];
  // Internal state the module objects below share (not for tests to poke).
  active: FakeDocument | null = null;
  layerIds = 1;
  documentIds = 1;
  suspensionIds = 1;
  modalDepth = 0;
  readonly listeners = new Map<string, Set<(event: string, descriptor: unknown) => void>>();
  /** Another plugin or a Photoshop dialog holds the modal state: executeAsModal fails. */
  busy = false;
  /** Decides, at a scope's start and at each reportProgress, whether the user pressed Cancel. */
  cancelWhen: ((event: ModalEvent) => boolean) | null = null;
  readonly modalScopes: string[] = [];
  readonly progress: ModalEvent[] = [];
  readonly alerts: string[] = [];
  /** Contract slips that Photoshop forgives silently (e.g. a scope ending with history still suspended). */
  readonly warnings: string[] = [];
  liveImageData = 0;
  /** imaging.getSelection calls. */
  selectionReads = 0;
  /** What each putPixels wrote: the samples as given, at their depth. */
  readonly puts: { layerID: number; componentSize: number; width: number; height: number; samples: Uint8Array | Uint16Array | Float32Array }[] = [];
  readonly secrets = new Map<string, Uint8Array>();
  readonly dataFiles = new Map<string, string>();
  /** The save dialog: the path the designer picks for a suggested name, or null (Cancel). */
  saveDialog: (suggestedName: string, types: string[]) => string | null = (name) => `/Users/designer/Movies/${name}`;
  /** Each time the save dialog was shown. */
  readonly saveDialogs: { suggestedName: string; types: string[] }[] = [];
  /** Files written through the save dialog's entries, by path. */
  readonly savedFiles = new Map<string, Uint8Array>();
  /** Paths app.open opened. */
  readonly opened: string[] = [];
  readonly localStorage = new FakeLocalStorage();
  readonly webview = new FakeWebview();

  get inModal(): boolean {
    return this.modalDepth > 0;
  }
  nextLayerId(): number {
    return this.layerIds++;
  }
  assertOpen(doc: FakeDocument): void {
    if (doc.closed) throw new Error(`The document “${doc.title}” is closed`);
  }

  emit(event: string, descriptor: unknown): void {
    const set = this.listeners.get(event);
    if (set) setTimeout(() => set.forEach((l) => l(event, descriptor)), 0);
  }

  // ---- test setup

  openDocument(init: DocumentInit): FakeDocument {
    const doc = new FakeDocument(
      this, this.documentIds++, init.title ?? `Untitled-${this.documentIds - 1}`, init.path ?? '', init.width, init.height,
      init.mode ?? 'RGBColorMode', init.bitsPerChannel ?? 'bitDepth8',
    );
    const build = (spec: LayerInit): FakeLayer => {
      const layer = new FakeLayer(doc, this.nextLayerId(), spec.name, spec.kind ?? (spec.children ? 'group' : 'pixel'), false, spec.visible ?? true);
      if (spec.rect) layer.store = storeFrom(spec.rect, spec.fill ?? [0, 0, 0, 255]);
      if (spec.children) layer.children = spec.children.map(build);
      return layer;
    };
    doc.layers = (init.layers ?? []).map(build);
    if (init.background) {
      const bg = new FakeLayer(doc, this.nextLayerId(), 'Background', 'pixel', true);
      bg.store = storeFrom({ left: 0, top: 0, width: init.width, height: init.height }, init.background);
      doc.layers.push(bg);
    }
    doc.activeIds = doc.layers.length ? [doc.layers[0].id] : [];
    this.documents.push(doc);
    this.active = doc;
    this.emit('open', { _obj: 'open', documentID: doc.id });
    return doc;
  }

  closeDocument(doc: FakeDocument): void {
    doc.closed = true;
    this.documents.splice(this.documents.indexOf(doc), 1);
    if (this.active === doc) this.active = this.documents.at(-1) ?? null;
    this.emit('close', { _obj: 'close', documentID: doc.id });
  }

  doc(documentID: number | undefined): FakeDocument {
    const doc = documentID === undefined || documentID < 0 ? this.active : (this.documents.find((d) => d.id === documentID) ?? null);
    if (!doc) throw new Error(documentID === undefined ? 'There is no active document' : `No document with id ${documentID}`);
    return doc;
  }

  // ---- the modules

  readonly photoshop: PhotoshopModule = photoshopModule(this);

  readonly uxp: UxpModule = uxpModule(this);
}

/** The document's visible layers composited with "normal" blending, bottom to top. */
function composite(doc: FakeDocument, bounds: PsBounds): Uint8Array {
  const width = bounds.right - bounds.left;
  const height = bounds.bottom - bounds.top;
  const out = new Uint8Array(width * height * 4);
  const visible = (list: FakeLayer[]): FakeLayer[] => list.filter((l) => l.visible).flatMap((l) => (l.children ? visible(l.children) : [l]));
  for (const layer of visible(doc.layers).reverse()) {
    const px = layer.pixels(bounds);
    for (let i = 0; i < out.length; i += 4) {
      const a = px[i + 3] / 255;
      const b = out[i + 3] / 255;
      const oa = a + b * (1 - a);
      for (let c = 0; c < 3; c++) out[i + c] = oa ? Math.round((px[i + c] * a + out[i + c] * b * (1 - a)) / oa) : 0;
      out[i + 3] = Math.round(oa * 255);
    }
  }
  return out;
}

/** require('photoshop') over the fake's state. */
function photoshopModule(fake: FakePhotoshop): PhotoshopModule {
  const app = {
    get activeDocument() {
      return fake.active;
    },
    /** Bringing a document to the front: modal only, as other state changes. */
    set activeDocument(doc: FakeDocument | null) {
      if (!fake.inModal) throw modalError('select');
      if (!doc || !fake.documents.includes(doc)) throw new Error('activeDocument takes an open document');
      fake.active = doc;
      fake.emit('select', { _obj: 'select', documentID: doc.id });
    },
    get documents() {
      return fake.documents;
    },
    version: PHOTOSHOP_VERSION,
    async showAlert(message: string) {
      fake.alerts.push(String(message));
    },
    async open(entry: unknown) {
      if (!fake.inModal) throw modalError('open');
      if (!(entry instanceof FakeSavedFile)) throw new TypeError('app.open takes a file entry');
      const bytes = fake.savedFiles.get(entry.nativePath);
      if (!bytes) throw new Error(`Could not open “${entry.name}” because the file was not found.`);
      const size = mp4Size(bytes);
      if (!size) throw new Error(`Could not complete your request because Photoshop does not recognize this type of file.`);
      const doc = fake.openDocument({ title: entry.name, path: entry.nativePath, width: size.width, height: size.height });
      const layer = new FakeLayer(doc, fake.nextLayerId(), entry.name.replace(/\.[^.]+$/, ''), 'video');
      doc.layers = [layer];
      doc.activeIds = [layer.id];
      fake.opened.push(entry.nativePath);
      return doc;
    },
  };
  const core = {
    async executeAsModal<T>(target: (context: ExecutionContext) => Promise<T>, options: { commandName: string }): Promise<T> {
      if (!options || typeof options.commandName !== 'string') throw new Error('executeAsModal needs options.commandName');
      if (fake.busy || fake.modalDepth > 0) throw new Error('host is in a modal state');
      fake.modalDepth++;
      fake.modalScopes.push(options.commandName);
      let cancelled = false;
      const suspended = new Set<number>();
      const context: ExecutionContext = {
        get isCancelled() {
          return cancelled;
        },
        onCancel: undefined,
        reportProgress(progress: { value: number; commandName?: string }) {
          if (typeof progress?.value !== 'number' || progress.value < 0 || progress.value > 1) throw new RangeError('reportProgress value must be between 0 and 1');
          const event = { commandName: progress.commandName ?? options.commandName, progress: progress.value };
          fake.progress.push(event);
          check(event);
        },
        hostControl: {
          async suspendHistory(info: { documentID: number; name: string }) {
            const doc = fake.doc(info?.documentID);
            if (typeof info.name !== 'string' || !info.name) throw new Error('suspendHistory needs a name');
            if (doc.suspension) throw new Error(`History of “${doc.title}” is already suspended`);
            doc.suspension = { id: fake.suspensionIds++, name: info.name, before: doc.snapshot(), changed: false };
            suspended.add(doc.suspension.id);
            return doc.suspension.id;
          },
          async resumeHistory(suspension: unknown, commit = true) {
            const id = typeof suspension === 'number' ? suspension : (suspension as { historySuspensionID?: number })?.historySuspensionID;
            const doc = fake.documents.find((d) => d.suspension?.id === id);
            if (!doc || !doc.suspension) throw new Error(`No suspended history with id ${String(id)}`);
            const s = doc.suspension;
            doc.suspension = null;
            suspended.delete(s.id);
            if (!commit) doc.restore(s.before);
            else if (s.changed) doc.history.push({ name: s.name, before: s.before });
          },
        },
      };
      const check = (event: ModalEvent) => {
        if (!cancelled && fake.cancelWhen?.(event)) {
          cancelled = true;
          context.onCancel?.();
        }
      };
      check({ commandName: options.commandName });
      try {
        return await target(context);
      } finally {
        for (const doc of fake.documents) {
          if (doc.suspension && suspended.has(doc.suspension.id)) {
            fake.warnings.push(`“${options.commandName}” ended with the history of “${doc.title}” still suspended`);
            const s = doc.suspension;
            doc.suspension = null;
            if (s.changed) doc.history.push({ name: s.name, before: s.before });
          }
        }
        fake.modalDepth--;
      }
    },
  };
  const action = {
    async addNotificationListener(events: string[], listener: (event: string, descriptor: unknown) => void) {
      if (!Array.isArray(events)) throw new TypeError('addNotificationListener takes an array of event names');
      for (const e of events) {
        if (!fake.listeners.has(e)) fake.listeners.set(e, new Set());
        fake.listeners.get(e)!.add(listener);
      }
    },
    async removeNotificationListener(events: string[], listener: (event: string, descriptor: unknown) => void) {
      for (const e of events) fake.listeners.get(e)?.delete(listener);
    },
  };
  const imaging = {
    async getPixels(options: { documentID?: number; layerID?: number; sourceBounds?: PsBounds; targetSize?: { width?: number; height?: number }; colorSpace?: string; componentSize?: -1 | 8 | 16 | 32; applyAlpha?: boolean }) {
      const doc = fake.doc(options.documentID);
      if (options.colorSpace !== undefined && !['RGB', 'Grayscale', 'Lab'].includes(options.colorSpace)) throw new Error(`Unsupported color space ${options.colorSpace}`);
      let rgba: Uint8Array;
      let bounds: PsBounds;
      let hasAlpha = true;
      if (options.layerID !== undefined) {
        const layer = doc.layer(options.layerID);
        if (!layer) throw new Error(`No layer with id ${options.layerID}`);
        if (layer.kind === 'group' || !layer.store) throw new Error(`The layer “${layer.name}” has no pixels`);
        const pixelBounds = layer.boundsNoEffects;
        const trimmed = intersect(options.sourceBounds ?? pixelBounds, pixelBounds);
        if (!trimmed) throw new Error('The requested bounds contain no pixels');
        bounds = trimmed;
        rgba = layer.pixels(bounds);
        hasAlpha = !layer.isBackgroundLayer;
      } else {
        bounds = intersect(options.sourceBounds ?? { left: 0, top: 0, right: doc.width, bottom: doc.height }, { left: 0, top: 0, right: doc.width, bottom: doc.height })!;
        rgba = composite(doc, bounds);
      }
      let width = bounds.right - bounds.left;
      let height = bounds.bottom - bounds.top;
      if (options.targetSize && (options.targetSize.width || options.targetSize.height)) {
        const requested = options.sourceBounds ?? bounds;
        const sx = options.targetSize.width ? options.targetSize.width / (requested.right - requested.left) : options.targetSize.height! / (requested.bottom - requested.top);
        const sy = options.targetSize.height ? options.targetSize.height / (requested.bottom - requested.top) : sx;
        const w = Math.max(1, Math.round(width * sx));
        const h = Math.max(1, Math.round(height * sy));
        const scaled = new Uint8Array(w * h * 4);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const src = (Math.min(height - 1, Math.floor(y / sy)) * width + Math.min(width - 1, Math.floor(x / sx))) * 4;
            scaled.set(rgba.subarray(src, src + 4), (y * w + x) * 4);
          }
        }
        [rgba, width, height] = [scaled, w, h];
      }
      if (options.applyAlpha) {
        for (let i = 0; i < rgba.length; i += 4) {
          const a = rgba[i + 3] / 255;
          for (let c = 0; c < 3; c++) rgba[i + c] = Math.round(rgba[i + c] * a + 255 * (1 - a));
        }
        hasAlpha = false;
      }
      const size = !options.componentSize || options.componentSize === -1 ? doc.depth : options.componentSize;
      const components = hasAlpha ? 4 : 3;
      const imageData = new FakeImageData(fake, width, height, components, size, options.colorSpace ?? 'RGB', '', toSamples(rgba, components, size));
      return { imageData, sourceBounds: bounds, level: 0 };
    },

    async putPixels(options: { documentID?: number; layerID: number; imageData: PsImageData; replace?: boolean; targetBounds?: PsBounds | { left: number; top: number; width: number; height: number } }) {
      if (!fake.inModal) throw modalError('putPixels');
      const doc = fake.doc(options.documentID);
      const layer = doc.layer(options.layerID);
      if (!layer) throw new Error(`No layer with id ${options.layerID}`);
      if (layer.kind !== 'pixel') throw new Error(`putPixels needs a pixel layer; “${layer.name}” is ${layer.kind}`);
      const data = options.imageData;
      if (!(data instanceof FakeImageData)) throw new TypeError('putPixels takes image data made by the imaging API');
      if (data.disposed) throw new Error('The image data has been disposed');
      if (data.componentSize !== doc.depth) throw new Error(`The image data is ${data.componentSize}-bit; “${doc.title}” is ${doc.depth}-bit`);
      if (data.colorSpace !== 'RGB' || doc.mode !== 'RGBColorMode') throw new Error(`Image data in ${data.colorSpace} cannot be put into a document in ${doc.mode}`);
      const tb = options.targetBounds;
      const left = tb?.left ?? 0;
      const top = tb?.top ?? 0;
      if (tb) {
        const w = 'width' in tb ? tb.width : tb.right - tb.left;
        const h = 'height' in tb ? tb.height : tb.bottom - tb.top;
        if (w !== data.width || h !== data.height) throw new Error(`targetBounds are ${w}×${h} but the image data is ${data.width}×${data.height}`);
      }
      if (data.componentSize === 16 && data.samples.some((v) => v > 32768)) throw new Error('16-bit image data runs 0..32768 (or pass fullRange to createImageDataFromBuffer)');
      fake.puts.push({ layerID: layer.id, componentSize: data.componentSize, width: data.width, height: data.height, samples: data.samples.slice() });
      const rgba = toRgba8(data.samples, data.components, data.componentSize);
      doc.mutate('set', 'Put Pixels', () => {
        const incoming: PixelStore = { left, top, width: data.width, height: data.height, data: rgba };
        if (options.replace !== false || !layer.store) {
          layer.store = incoming;
          return;
        }
        // Merge: grow the store to cover both, then overwrite the incoming rect.
        const old = layer.store;
        const l = Math.min(old.left, left), t = Math.min(old.top, top);
        const r = Math.max(old.left + old.width, left + data.width), b = Math.max(old.top + old.height, top + data.height);
        const merged: PixelStore = { left: l, top: t, width: r - l, height: b - t, data: new Uint8Array((r - l) * (b - t) * 4) };
        for (const s of [old, incoming]) {
          for (let y = 0; y < s.height; y++) merged.data.set(s.data.subarray(y * s.width * 4, (y + 1) * s.width * 4), ((s.top - t + y) * merged.width + (s.left - l)) * 4);
        }
        layer.store = merged;
      });
    },

    async getSelection(options: { documentID?: number; sourceBounds?: PsBounds; targetSize?: { width?: number; height?: number } }) {
      const doc = fake.doc(options.documentID);
      fake.selectionReads++;
      const canvas = { left: 0, top: 0, right: doc.width, bottom: doc.height };
      const area = doc.selectionArea;
      const requested = options.sourceBounds ?? area?.bounds ?? canvas;
      const bounds = area ? intersect(intersect(requested, canvas) ?? requested, area.bounds) : intersect(requested, canvas);
      if (!bounds || !intersect(bounds, canvas)) throw new Error('The requested bounds contain no selection');
      let width = bounds.right - bounds.left;
      let height = bounds.bottom - bounds.top;
      let levels = new Uint8Array(width * height);
      if (area) {
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) levels[y * width + x] = Math.max(0, Math.min(255, Math.round(area.level(bounds.left + x, bounds.top + y))));
        }
      }
      if (options.targetSize && (options.targetSize.width || options.targetSize.height)) {
        const sx = options.targetSize.width ? options.targetSize.width / width : options.targetSize.height! / height;
        const sy = options.targetSize.height ? options.targetSize.height / height : sx;
        const w = Math.max(1, Math.round(width * sx));
        const h = Math.max(1, Math.round(height * sy));
        const scaled = new Uint8Array(w * h);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) scaled[y * w + x] = levels[Math.min(height - 1, Math.floor(y / sy)) * width + Math.min(width - 1, Math.floor(x / sx))];
        [levels, width, height] = [scaled, w, h];
      }
      const size = doc.depth === 16 ? 16 : 8;
      const samples = size === 16 ? Uint16Array.from(levels, (v) => Math.round((v * 32768) / 255)) : levels;
      return { imageData: new FakeImageData(fake, width, height, 1, size, 'Grayscale', 'Gray Gamma 2.2', samples), sourceBounds: bounds };
    },

    async createImageDataFromBuffer(buffer: Uint8Array | Uint16Array | Float32Array, options: { width: number; height: number; components: number; chunky?: boolean; colorProfile?: string; colorSpace: string; fullRange?: boolean }) {
      const size = buffer instanceof Uint8Array ? 8 : buffer instanceof Uint16Array ? 16 : buffer instanceof Float32Array ? 32 : null;
      if (!size) throw new TypeError('createImageDataFromBuffer takes a Uint8Array, Uint16Array or Float32Array');
      const { width, height, components, colorSpace } = options;
      if (!['RGB', 'Grayscale', 'Lab'].includes(colorSpace)) throw new Error(`Unsupported color space ${colorSpace}`);
      const allowed = colorSpace === 'Grayscale' ? [1, 2] : [3, 4];
      if (!allowed.includes(components)) throw new Error(`${colorSpace} image data has ${allowed.join(' or ')} components, not ${components}`);
      if (buffer.length !== width * height * components) throw new Error(`The buffer holds ${buffer.length} values; ${width}×${height}×${components} needs ${width * height * components}`);
      let samples = buffer.slice();
      if (options.chunky === false) {
        const n = width * height;
        const chunky = new (buffer.constructor as Uint8ArrayConstructor)(buffer.length) as typeof samples;
        for (let i = 0; i < n; i++) for (let c = 0; c < components; c++) chunky[i * components + c] = buffer[c * n + i];
        samples = chunky;
      }
      if (size === 16 && options.fullRange) samples = Uint16Array.from(samples, (v) => Math.round((v * 32768) / 65535));
      return new FakeImageData(fake, width, height, components, size, colorSpace, options.colorProfile ?? '', samples);
    },
  };
  return { app, core, action, imaging } as unknown as PhotoshopModule;
}

/** require('uxp') over the fake's state. */
function uxpModule(fake: FakePhotoshop): UxpModule {
  const encoder = new TextEncoder();
  return {
    storage: {
      secureStorage: {
        async getItem(key: string) {
          const value = fake.secrets.get(key);
          if (!value) throw new Error(`No item is stored for the key ${key}`);
          return value.slice();
        },
        async setItem(key: string, value: string | Uint8Array) {
          if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError('secureStorage.setItem takes a string or typed array');
          const bytes = typeof value === 'string' ? encoder.encode(value) : value.slice();
          if (bytes.length === 0) throw new Error('secureStorage.setItem refuses an empty value');
          fake.secrets.set(key, bytes);
        },
        async removeItem(key: string) {
          fake.secrets.delete(key);
        },
      },
      formats: FORMATS,
      localFileSystem: {
        async getFileForSaving(suggestedName: string, options: { types?: string[] } = {}) {
          const types = options.types;
          if (typeof suggestedName !== 'string' || !suggestedName) throw new TypeError('getFileForSaving needs a suggested name');
          if (!Array.isArray(types) || !types.length || types.some((t) => typeof t !== 'string' || t.startsWith('.'))) {
            throw new TypeError('getFileForSaving: options.types lists extensions without the dot, e.g. ["mp4"]');
          }
          fake.saveDialogs.push({ suggestedName, types: [...types] });
          const path = fake.saveDialog(suggestedName, types);
          return path === null ? null : new FakeSavedFile(fake, path);
        },
        async getDataFolder() {
          return {
            async getEntry(name: string) {
              if (!fake.dataFiles.has(name)) throw new Error(`Could not find an entry named ${name}`);
              return new FakeFile(fake.dataFiles, name);
            },
            async createFile(name: string, options: { overwrite?: boolean } = {}) {
              if (fake.dataFiles.has(name) && !options.overwrite) throw new Error(`${name} already exists`);
              if (!fake.dataFiles.has(name)) fake.dataFiles.set(name, '');
              return new FakeFile(fake.dataFiles, name);
            },
          };
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------- a running panel

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface PanelSession {
  fake: FakePhotoshop;
  bridge: PhotoshopBridge;
  logs: LogLine[];
  /** Every host→UI message the UI end received, decoded. */
  received: HostMessage[];
  /** Sends a UI→host message through the JSON bridge, as the webview page does, and waits until it is handled. */
  send(message: UiMessage): Promise<void>;
  /** Waits until every frame has crossed and every message was handled. */
  settle(): Promise<void>;
  /** The first received message of `type` (after `from` messages), waiting for it if needed. */
  next<K extends HostMessage['type']>(type: K, from?: number): Promise<Extract<HostMessage, { type: K }>>;
  close(): Promise<void>;
}

/** Starts the panel bridge on the fake, with a UI end speaking the wire protocol through the fake webview. */
export function startPanel(fake = new FakePhotoshop(), options: { theme?: ThemeSource; frameChars?: number } = {}): PanelSession {
  const logs: LogLine[] = [];
  const log = {
    info: (message: string) => logs.push({ level: 'info', message }),
    warn: (message: string) => logs.push({ level: 'warn', message }),
    error: (message: string) => logs.push({ level: 'error', message }),
  };
  const bridge = startPhotoshopBridge({
    photoshop: fake.photoshop, uxp: fake.uxp, storage: fake.localStorage, webview: fake.webview, log,
    theme: options.theme, selectionDebounceMs: 5, frameChars: options.frameChars,
  });
  const received: HostMessage[] = [];
  const receiver = new WireReceiver('ui', (msg) => received.push(msg as HostMessage));
  const stop = fake.webview.page.onMessage((event) => receiver.push(event));
  const sender = new WireSender('host', (frame) => fake.webview.page.uxpHost.postMessage(frame), options.frameChars);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const settle = async () => {
    for (let round = 0; round < 4; round++) {
      await tick();
      await bridge.idle();
    }
    await tick();
  };
  return {
    fake, bridge, logs, received, settle,
    async send(message) {
      sender.send(message);
      await settle();
    },
    async next(type, from = 0) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = received.slice(from).find((m) => m.type === type);
        if (found) return found as Extract<HostMessage, { type: typeof type }>;
        if (Date.now() > deadline) throw new Error(`no ${type} message arrived; got ${received.map((m) => m.type).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      stop();
      await bridge.dispose();
    },
  };
}
