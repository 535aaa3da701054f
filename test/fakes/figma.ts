// A small fake of the part of Figma's plugin API that plugin/figma uses, written from @figma/plugin-typings
// 1.142 and the documented limits. It enforces the rules the real host enforces, so a bridge that passes
// against it does not trip them in Figma:
//   - createImage: PNG/JPEG/GIF only (magic numbers), at most 4096 px per edge ("Image is too large").
//   - fills are frozen: mutate a copy and assign it back.
//   - documentAccess "dynamic-page": getNodeById and the currentPage setter throw.
//   - clientStorage: 5 MB per plugin, plain data only.
//   - setPluginData: strings only, key + value at most 100 kB.
//   - figma.ui.postMessage: plain data and Uint8Array only (stricter than Figma, which silently drops
//     functions and prototypes: here they throw so the bug is found).
//   - notify: messages are cut to 100 characters, as the typings say.
//   - undo: commitUndo() closes a step, triggerUndo() reverts to the last commit (or the step before).
//   - video: exportAsync MP4/GIF/WEBM only on a top-level frame with animated content (the clip a test gave it);
//     createVideoAsync takes MP4/MOV/WebM bytes up to 100 MB, and only in a paid team (`paidPlan`).
//   - shapes: a rectangle or ellipse with only solid fills exports as its coverage (pixel centres inside the shape,
//     alpha = the top fill's opacity, colour = its colour), transparent outside, as Figma renders a shape alone.
// Not modelled: rotation (absoluteTransform is a pure translation), effects, auto-layout positioning,
// rendering of other content (exportAsync draws a synthetic pattern of the right size, not the node's content).
import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { FigmaApi } from '../../plugin/figma/api.ts';

export const FIGMA_MAX_IMAGE_EDGE = 4096;
export const CLIENT_STORAGE_QUOTA_BYTES = 5 * 1024 * 1024;
export const PLUGIN_DATA_MAX_BYTES = 100_000;
export const NOTIFY_MAX_CHARS = 100;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

// ---------------------------------------------------------------------------------------------- plain data

/** Why `value` could not cross figma.ui.postMessage / clientStorage, or null when it can. */
export function plainDataProblem(value: unknown, path = 'message', seen = new Set<object>()): string | null {
  if (value === null || value === undefined) return null;
  const kind = typeof value;
  if (kind === 'string' || kind === 'boolean') return null;
  if (kind === 'number') return null;
  if (kind !== 'object') return `${path} is a ${kind}`;
  const obj = value as object;
  if (obj.constructor === Uint8Array) return null;
  if (obj instanceof Date) return null;
  if (seen.has(obj)) return `${path} is a circular reference`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const problem = plainDataProblem(obj[i], `${path}[${i}]`, seen);
        if (problem) return problem;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
      return `${path} is a ${name} (only plain objects, arrays and Uint8Array cross)`;
    }
    for (const [key, child] of Object.entries(obj)) {
      const problem = plainDataProblem(child, `${path}.${key}`, seen);
      if (problem) return problem;
    }
    return null;
  } finally {
    seen.delete(obj);
  }
}

/** Copy of plain data the way a structured clone delivers it. */
const clonePlain = <T>(value: T): T => structuredClone(value);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------- images

interface StoredImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

function imageSize(bytes: Uint8Array): { width: number; height: number } {
  const isPng = bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const isGif = bytes.length >= 10 && /^GIF8[79]a$/.test(Buffer.from(bytes.subarray(0, 6)).toString('latin1'));
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height };
    }
    if (isJpeg) {
      const image = jpeg.decode(bytes, { useTArray: true, maxResolutionInMP: 200, maxMemoryUsageInMB: 2048 });
      return { width: image.width, height: image.height };
    }
  } catch (err) {
    throw new Error(`Image is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (isGif) return { width: bytes[6] | (bytes[7] << 8), height: bytes[8] | (bytes[9] << 8) };
  throw new Error('Image type is unsupported: createImage takes PNG, JPEG or GIF bytes');
}

/** A PNG of the given size with a deterministic pattern, standing in for Figma's renderer. */
export function syntheticPng(width: number, height: number, seed = 0): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = (x * 255) / Math.max(1, width - 1);
      png.data[i + 1] = (y * 255) / Math.max(1, height - 1);
      png.data[i + 2] = (seed * 37) & 255;
      png.data[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png, { deflateLevel: 1 }));
}

// ---------------------------------------------------------------------------------------------- undo

class UndoHistory {
  private pending: Array<() => void> = [];
  private steps: Array<Array<() => void>> = [];
  private replaying = false;

  /** Remembers how to revert one document change. */
  record(revert: () => void): void {
    if (!this.replaying) this.pending.push(revert);
  }
  commit(): void {
    if (this.pending.length) this.steps.push(this.pending);
    this.pending = [];
  }
  /** Reverts to the last commit; with nothing uncommitted, reverts the last committed step. */
  undo(): boolean {
    const step = this.pending.length ? this.pending : this.steps.pop();
    this.pending = [];
    if (!step) return false;
    this.replaying = true;
    try {
      for (const revert of [...step].reverse()) revert();
    } finally {
      this.replaying = false;
    }
    return true;
  }
  get stepCount(): number {
    return this.steps.length;
  }
  get uncommittedChanges(): number {
    return this.pending.length;
  }
  /** Forgets everything (after building a test scene). */
  clear(): void {
    this.pending = [];
    this.steps = [];
  }
}

// ---------------------------------------------------------------------------------------------- nodes

type Container = FakePage | FakeFrame | FakeGroup;
type Box = { x: number; y: number; width: number; height: number };

const SOLID_KEYS = new Set(['type', 'color', 'opacity', 'visible', 'blendMode', 'boundVariables']);
const IMAGE_KEYS = new Set([
  'type', 'scaleMode', 'imageHash', 'imageTransform', 'scalingFactor', 'rotation', 'filters', 'visible', 'opacity', 'blendMode',
]);
const SCALE_MODES = new Set(['FILL', 'FIT', 'CROP', 'TILE']);
const VIDEO_KEYS = new Set(['type', 'scaleMode', 'videoHash', 'videoTransform', 'scalingFactor', 'rotation', 'filters', 'visible', 'opacity', 'blendMode']);
export const FIGMA_MAX_VIDEO_BYTES = 100 * 1024 * 1024;

/** MP4/MOV (an ISO BMFF `ftyp` box first) or WebM (an EBML header): what createVideoAsync accepts. */
export function isVideoContainer(bytes: Uint8Array): boolean {
  const ftyp = bytes.length >= 12 && String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp';
  const ebml = bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3;
  return ftyp || ebml;
}

abstract class FakeBaseNode {
  readonly id: string;
  abstract readonly type: string;
  protected _name: string;
  _parent: Container | null = null;
  _removed = false;
  private pluginData = new Map<string, string>();

  constructor(
    protected readonly fake: FakeFigma,
    name: string,
  ) {
    this.id = fake.nextId();
    this._name = name;
    fake.register(this);
  }

  protected assertAlive(): void {
    if (this._removed) throw new Error(`The node (id ${this.id}) does not exist`);
  }

  get name(): string {
    return this._name;
  }
  set name(value: string) {
    this.assertAlive();
    if (typeof value !== 'string') throw new Error('name must be a string');
    const before = this._name;
    this._name = value;
    this.fake.history.record(() => (this._name = before));
  }
  get parent(): Container | null {
    return this._parent;
  }
  get removed(): boolean {
    return this._removed;
  }

  remove(): void {
    if (this._removed) throw new Error(`The node (id ${this.id}) does not exist`);
    const parent = this._parent;
    const index = parent ? parent._children.indexOf(this as unknown as FakeSceneNode) : -1;
    if (parent) parent._children.splice(index, 1);
    this._parent = null;
    this._removed = true;
    this.fake.history.record(() => {
      this._removed = false;
      this._parent = parent;
      if (parent) parent._children.splice(index, 0, this as unknown as FakeSceneNode);
    });
  }

  getPluginData(key: string): string {
    return this.pluginData.get(key) ?? '';
  }
  getPluginDataKeys(): string[] {
    return [...this.pluginData.keys()];
  }
  setPluginData(key: string, value: string): void {
    this.assertAlive();
    if (typeof key !== 'string' || typeof value !== 'string') throw new Error('setPluginData: key and value must be strings');
    if (utf8Bytes(key) + utf8Bytes(value) > PLUGIN_DATA_MAX_BYTES) {
      throw new Error(`setPluginData: entry for "${key}" is over the 100 kB limit`);
    }
    const before = this.pluginData.get(key);
    if (value === '') this.pluginData.delete(key);
    else this.pluginData.set(key, value);
    this.fake.history.record(() => {
      if (before === undefined) this.pluginData.delete(key);
      else this.pluginData.set(key, before);
    });
  }

  toString(): string {
    return `[Node ${this.id}]`;
  }
}

abstract class FakeSceneNode extends FakeBaseNode {
  protected _visible = true;
  /** Position relative to the containing parent (nearest ancestor that is not a group). */
  protected _x = 0;
  protected _y = 0;
  protected _width: number;
  protected _height: number;

  constructor(fake: FakeFigma, name: string, box: Partial<Box> = {}) {
    super(fake, name);
    this._x = box.x ?? 0;
    this._y = box.y ?? 0;
    this._width = box.width ?? 100;
    this._height = box.height ?? 100;
  }

  get visible(): boolean {
    return this._visible;
  }
  set visible(value: boolean) {
    const before = this._visible;
    this._visible = value;
    this.fake.history.record(() => (this._visible = before));
  }
  get x(): number {
    return this._x;
  }
  set x(value: number) {
    if (!Number.isFinite(value)) throw new Error('x must be a finite number');
    const before = this._x;
    this._x = value;
    this.fake.history.record(() => (this._x = before));
  }
  get y(): number {
    return this._y;
  }
  set y(value: number) {
    if (!Number.isFinite(value)) throw new Error('y must be a finite number');
    const before = this._y;
    this._y = value;
    this.fake.history.record(() => (this._y = before));
  }
  get width(): number {
    return this._width;
  }
  get height(): number {
    return this._height;
  }
  resize(width: number, height: number): void {
    this.assertAlive();
    if (!(width >= 0.01) || !(height >= 0.01)) throw new Error('resize: width and height must be >= 0.01');
    const before = [this._width, this._height];
    this._width = width;
    this._height = height;
    this.fake.history.record(() => ([this._width, this._height] = before));
  }

  /** Page position of the coordinate system this node's x/y are in. */
  protected originOfParent(): { x: number; y: number } {
    let origin: Container | null = this._parent;
    while (origin instanceof FakeGroup) origin = origin._parent;
    if (!origin || origin instanceof FakePage) return { x: 0, y: 0 };
    return origin.absolutePosition();
  }
  absolutePosition(): { x: number; y: number } {
    const origin = this.originOfParent();
    return { x: origin.x + this.x, y: origin.y + this.y };
  }
  get absoluteTransform(): Transform {
    const { x, y } = this.absolutePosition();
    return [
      [1, 0, x],
      [0, 1, y],
    ];
  }
  get absoluteBoundingBox(): Rect {
    const { x, y } = this.absolutePosition();
    return { x, y, width: this.width, height: this.height };
  }
  get absoluteRenderBounds(): Rect | null {
    return this._visible ? this.absoluteBoundingBox : null;
  }

  /** A shape's own rendering (rectangles and ellipses with solid fills), or null for the synthetic pattern. */
  protected renderShape(width: number, height: number): Uint8Array | null {
    return shapePng(this as unknown as { type: string; fills?: unknown }, width, height);
  }

  /** The clip a video export of this node gives (set with FakeFigma.animate); null = nothing animates. */
  _animation: Uint8Array | null = null;

  async exportAsync(settings?: ExportSettings | ExportSettingsMP4 | ExportSettingsGIF | ExportSettingsWEBM): Promise<Uint8Array> {
    if (this._removed) throw new Error(`The node (id ${this.id}) does not exist`);
    const format = settings?.format ?? 'PNG';
    if (format === 'MP4' || format === 'GIF' || format === 'WEBM') {
      // Per the typings: only a top-level frame whose content is animated exports as video.
      if (this.type !== 'FRAME' || !(this._parent instanceof FakePage)) throw new Error(`Video export needs a top-level frame; "${this.name}" is not one`);
      if (!this._animation) throw new Error(`"${this.name}" has no animated content to export`);
      this.fake.exports.push({ nodeId: this.id, settings: clonePlain(settings ?? {}) as ExportSettings, width: Math.round(this.width), height: Math.round(this.height) });
      return new Uint8Array(this._animation);
    }
    if (format !== 'PNG' && format !== 'JPG') throw new Error(`The fake only exports PNG and JPG, not ${format}`);
    const bounds = this.absoluteRenderBounds;
    if (!bounds || bounds.width <= 0 || bounds.height <= 0) throw new Error(`Cannot export "${this.name}": it has no visible area`);
    const constraint = (settings as ExportSettingsImage | undefined)?.constraint ?? { type: 'SCALE', value: 1 };
    if (!(constraint.value > 0)) throw new Error('exportAsync: constraint value must be positive');
    const ratio = constraint.type === 'SCALE' ? constraint.value : constraint.type === 'WIDTH' ? constraint.value / bounds.width : constraint.value / bounds.height;
    const width = Math.max(1, Math.round(bounds.width * ratio));
    const height = Math.max(1, Math.round(bounds.height * ratio));
    this.fake.exports.push({ nodeId: this.id, settings: clonePlain(settings ?? {}) as ExportSettings, width, height });
    const png = this.renderShape(width, height) ?? syntheticPng(width, height, Number(this.id.split(':')[1]));
    if (format === 'PNG') return png;
    const raw = PNG.sync.read(Buffer.from(png));
    return new Uint8Array(jpeg.encode({ width, height, data: raw.data }, 90).data);
  }
}

/** Reached through FakeSceneNode.renderShape: a shape alone, as Figma renders it (see the header). */
function shapePng(node: { type: string; fills?: unknown }, width: number, height: number): Uint8Array | null {
  if (node.type !== 'RECTANGLE' && node.type !== 'ELLIPSE') return null;
  const fills = (Array.isArray(node.fills) ? node.fills : []) as Paint[];
  const visible = fills.filter((f) => f.visible !== false);
  if (visible.length === 0 || visible.some((f) => f.type !== 'SOLID')) return null;
  const top = visible[visible.length - 1] as SolidPaint;
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) / width - 0.5;
      const v = (y + 0.5) / height - 0.5;
      const inside = node.type === 'RECTANGLE' || u * u + v * v <= 0.25;
      const i = (y * width + x) * 4;
      png.data[i] = Math.round(top.color.r * 255);
      png.data[i + 1] = Math.round(top.color.g * 255);
      png.data[i + 2] = Math.round(top.color.b * 255);
      png.data[i + 3] = inside ? Math.round((top.opacity ?? 1) * 255) : 0;
    }
  }
  return new Uint8Array(PNG.sync.write(png, { deflateLevel: 1 }));
}

/** Mixin body for nodes with fills; kept as functions so every filled class shares the same rules. */
function normalizePaint(fake: FakeFigma, paint: unknown, index: number): Paint {
  if (!paint || typeof paint !== 'object') throw new Error(`fills[${index}] must be a paint object`);
  const p = paint as Record<string, unknown>;
  const allowed = p.type === 'SOLID' ? SOLID_KEYS : p.type === 'IMAGE' ? IMAGE_KEYS : p.type === 'VIDEO' ? VIDEO_KEYS : null;
  if (!allowed) throw new Error(`fills[${index}].type ${String(p.type)} is not supported by the fake (SOLID, IMAGE, VIDEO)`);
  for (const key of Object.keys(p)) {
    if (!allowed.has(key)) throw new Error(`fills[${index}] has unknown property "${key}"`);
  }
  if (p.visible !== undefined && typeof p.visible !== 'boolean') throw new Error(`fills[${index}].visible must be a boolean`);
  if (p.opacity !== undefined && (typeof p.opacity !== 'number' || p.opacity < 0 || p.opacity > 1)) {
    throw new Error(`fills[${index}].opacity must be between 0 and 1`);
  }
  const common = { visible: p.visible ?? true, opacity: p.opacity ?? 1, blendMode: p.blendMode ?? 'NORMAL' };
  if (p.type === 'SOLID') {
    const c = p.color as Record<string, unknown> | undefined;
    if (!c || ['r', 'g', 'b'].some((k) => typeof c[k] !== 'number')) throw new Error(`fills[${index}].color must be { r, g, b }`);
    return { type: 'SOLID', color: { r: c.r as number, g: c.g as number, b: c.b as number }, ...common } as SolidPaint;
  }
  if (typeof p.scaleMode !== 'string' || !SCALE_MODES.has(p.scaleMode)) throw new Error(`fills[${index}].scaleMode must be FILL, FIT, CROP or TILE`);
  if (p.type === 'VIDEO') {
    if (p.videoHash !== null && (typeof p.videoHash !== 'string' || !fake.videos.has(p.videoHash))) {
      throw new Error(`fills[${index}].videoHash ${String(p.videoHash)} is not a video in this file (use figma.createVideoAsync)`);
    }
    return { type: 'VIDEO', scaleMode: p.scaleMode, videoHash: p.videoHash, ...common } as VideoPaint;
  }
  if (p.imageHash !== null && (typeof p.imageHash !== 'string' || !fake.hasImage(p.imageHash))) {
    throw new Error(`fills[${index}].imageHash ${String(p.imageHash)} is not an image in this file (use figma.createImage)`);
  }
  return {
    type: 'IMAGE',
    scaleMode: p.scaleMode,
    imageHash: p.imageHash,
    imageTransform: p.imageTransform ?? [
      [1, 0, 0],
      [0, 1, 0],
    ],
    scalingFactor: p.scalingFactor ?? 0.5,
    rotation: p.rotation ?? 0,
    filters: p.filters ?? { exposure: 0, contrast: 0, saturation: 0, temperature: 0, tint: 0, highlights: 0, shadows: 0 },
    ...common,
  } as ImagePaint;
}

abstract class FakeFilledNode extends FakeSceneNode {
  private _fills: ReadonlyArray<Paint> = deepFreeze([]);

  get fills(): ReadonlyArray<Paint> {
    return this._fills;
  }
  set fills(value: ReadonlyArray<Paint>) {
    this.assertAlive();
    if (!Array.isArray(value)) throw new Error('fills must be an array of paints');
    const next = deepFreeze(value.map((paint, i) => normalizePaint(this.fake, paint, i)));
    const before = this._fills;
    this._fills = next;
    this.fake.history.record(() => (this._fills = before));
  }
}

function childrenOf(node: Container): ReadonlyArray<FakeSceneNode> {
  return Object.freeze([...node._children]);
}

function insertInto(fake: FakeFigma, container: Container, index: number, child: unknown): void {
  if (!(child instanceof FakeSceneNode) || child.removed) throw new Error('appendChild/insertChild takes an existing scene node');
  if (container._removed) throw new Error(`The node (id ${container.id}) does not exist`);
  for (let n: Container | null = container; n; n = n._parent) {
    if (n === (child as unknown)) throw new Error('Cannot move a node inside itself');
  }
  if (index < 0 || index > container._children.length) throw new Error(`insertChild: index ${index} is out of range`);
  const oldParent = child._parent;
  const oldIndex = oldParent ? oldParent._children.indexOf(child) : -1;
  if (oldParent) oldParent._children.splice(oldIndex, 1);
  container._children.splice(Math.min(index, container._children.length), 0, child);
  child._parent = container;
  fake.history.record(() => {
    container._children.splice(container._children.indexOf(child), 1);
    child._parent = oldParent;
    if (oldParent) oldParent._children.splice(oldIndex, 0, child);
  });
}

export class FakePage extends FakeBaseNode {
  readonly type = 'PAGE' as const;
  _children: FakeSceneNode[] = [];
  private _selection: FakeSceneNode[] = [];

  get children(): ReadonlyArray<FakeSceneNode> {
    return childrenOf(this);
  }
  appendChild(child: FakeSceneNode): void {
    insertInto(this.fake, this, this._children.length, child);
  }
  insertChild(index: number, child: FakeSceneNode): void {
    insertInto(this.fake, this, index, child);
  }
  get selection(): ReadonlyArray<FakeSceneNode> {
    return Object.freeze(this._selection.filter((n) => !n.removed));
  }
  set selection(nodes: ReadonlyArray<FakeSceneNode>) {
    if (!Array.isArray(nodes)) throw new Error('selection must be an array of nodes');
    for (const node of nodes) {
      if (!(node instanceof FakeSceneNode) || node.removed) throw new Error('selection takes existing scene nodes');
      if (this.fake.pageOf(node) !== this) throw new Error(`Node ${node.id} is not on page "${this.name}"`);
    }
    this._selection = [...new Set(nodes)];
    if (this.fake.currentPageNode === this) this.fake.emitLater('selectionchange');
  }
}

export class FakeFrame extends FakeFilledNode {
  readonly type = 'FRAME' as const;
  _children: FakeSceneNode[] = [];
  layoutMode: 'NONE' | 'HORIZONTAL' | 'VERTICAL' | 'GRID' = 'NONE';
  clipsContent = true;

  get children(): ReadonlyArray<FakeSceneNode> {
    return childrenOf(this);
  }
  appendChild(child: FakeSceneNode): void {
    insertInto(this.fake, this, this._children.length, child);
  }
  insertChild(index: number, child: FakeSceneNode): void {
    insertInto(this.fake, this, index, child);
  }
}

/** Groups have no coordinate system of their own: their box is the union of their children's. */
export class FakeGroup extends FakeSceneNode {
  readonly type = 'GROUP' as const;
  _children: FakeSceneNode[] = [];

  get children(): ReadonlyArray<FakeSceneNode> {
    return childrenOf(this);
  }
  appendChild(child: FakeSceneNode): void {
    insertInto(this.fake, this, this._children.length, child);
  }
  insertChild(index: number, child: FakeSceneNode): void {
    insertInto(this.fake, this, index, child);
  }
  override get absoluteBoundingBox(): Rect {
    const boxes = this._children.map((c) => c.absoluteBoundingBox);
    if (!boxes.length) return { ...this.absolutePositionOfOrigin(), width: 0, height: 0 };
    const x = Math.min(...boxes.map((b) => b.x));
    const y = Math.min(...boxes.map((b) => b.y));
    return { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x, height: Math.max(...boxes.map((b) => b.y + b.height)) - y };
  }
  private absolutePositionOfOrigin(): { x: number; y: number } {
    return this.originOfParent();
  }
  override absolutePosition(): { x: number; y: number } {
    const box = this.absoluteBoundingBox;
    return { x: box.x, y: box.y };
  }
  override get x(): number {
    return this.absoluteBoundingBox.x - this.originOfParent().x;
  }
  override set x(value: number) {
    const dx = value - this.x;
    for (const child of this._children) child.x += dx;
  }
  override get y(): number {
    return this.absoluteBoundingBox.y - this.originOfParent().y;
  }
  override set y(value: number) {
    const dy = value - this.y;
    for (const child of this._children) child.y += dy;
  }
  override get width(): number {
    return this.absoluteBoundingBox.width;
  }
  override get height(): number {
    return this.absoluteBoundingBox.height;
  }
}

export class FakeRectangle extends FakeFilledNode {
  readonly type = 'RECTANGLE' as const;
}
export class FakeEllipse extends FakeFilledNode {
  readonly type = 'ELLIPSE' as const;
}
/** A line is a node with zero height. */
export class FakeLine extends FakeSceneNode {
  readonly type = 'LINE' as const;
  constructor(fake: FakeFigma, name: string, box: Partial<Box> = {}) {
    super(fake, name, { ...box, height: 0 });
  }
}
export class FakeSlice extends FakeSceneNode {
  readonly type = 'SLICE' as const;
}
/** A FigJam connector: a scene node with no pixels of its own that the bridge should refuse. */
export class FakeConnector extends FakeSceneNode {
  readonly type = 'CONNECTOR' as const;
}

// ---------------------------------------------------------------------------------------------- figma

interface Notification {
  /** What Figma shows (cut to 100 characters). */
  message: string;
  /** What the plugin passed. */
  requested: string;
  error: boolean;
}

type Handler = (...args: unknown[]) => unknown;

class FakeUi {
  shown: { html: string; options?: ShowUIOptions } | null = null;
  /** Every message the plugin posted, as the iframe received it. */
  readonly sent: unknown[] = [];
  private handlers: Array<{ callback: Handler; once: boolean }> = [];
  private waiters: Array<{ type: string; resolve: (msg: unknown) => void }> = [];
  onmessage: Handler | undefined;

  postMessage(pluginMessage: unknown, options?: UIPostMessageOptions): void {
    if (!this.shown) throw new Error('figma.ui.postMessage: no UI is open (call figma.showUI first)');
    const problem = plainDataProblem(pluginMessage);
    if (problem) throw new Error(`figma.ui.postMessage cannot send this message: ${problem}`);
    void options;
    const delivered = clonePlain(pluginMessage);
    this.sent.push(delivered);
    const type = (delivered as { type?: unknown })?.type;
    this.waiters = this.waiters.filter((w) => (w.type === type ? (w.resolve(delivered), false) : true));
  }
  on(type: 'message', callback: Handler): void {
    if (type !== 'message') throw new Error(`figma.ui.on: unknown event ${String(type)}`);
    this.handlers.push({ callback, once: false });
  }
  once(type: 'message', callback: Handler): void {
    if (type !== 'message') throw new Error(`figma.ui.once: unknown event ${String(type)}`);
    this.handlers.push({ callback, once: true });
  }
  off(type: 'message', callback: Handler): void {
    this.handlers = this.handlers.filter((h) => h.callback !== callback);
  }
  show(): void {}
  hide(): void {}
  resize(width: number, height: number): void {
    if (this.shown) this.shown.options = { ...this.shown.options, width, height };
  }
  close(): void {
    this.shown = null;
  }

  // ---- test side: the iframe
  /** The iframe's parent.postMessage({ pluginMessage }): resolves when every handler's returned promise settles. */
  async deliver(pluginMessage: unknown): Promise<void> {
    const problem = plainDataProblem(pluginMessage);
    if (problem) throw new Error(`The UI cannot send this message: ${problem}`);
    const props = { origin: 'null' };
    const handlers = [...this.handlers];
    this.handlers = this.handlers.filter((h) => !h.once);
    const results: unknown[] = handlers.map((h) => h.callback(clonePlain(pluginMessage), props));
    if (this.onmessage) results.push(this.onmessage(clonePlain(pluginMessage), props));
    await Promise.all(results);
  }
  /** The next message of `type` the plugin posts from now on. */
  waitFor<T = Record<string, unknown>>(type: string, timeoutMs = 2000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No "${type}" message was posted within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg as T);
        },
      });
    });
  }
  messagesOfType<T = Record<string, unknown>>(type: string): T[] {
    return this.sent.filter((m) => (m as { type?: unknown })?.type === type) as T[];
  }
}

class FakeClientStorage {
  private store = new Map<string, unknown>();

  private usedBytes(except?: string): number {
    let total = 0;
    for (const [key, value] of this.store) if (key !== except) total += entryBytes(key, value);
    return total;
  }
  async getAsync(key: string): Promise<unknown> {
    return this.store.has(key) ? clonePlain(this.store.get(key)) : undefined;
  }
  async setAsync(key: string, value: unknown): Promise<void> {
    if (typeof key !== 'string') throw new Error('clientStorage key must be a string');
    const problem = plainDataProblem(value, 'value');
    if (problem) throw new Error(`clientStorage cannot store this value: ${problem}`);
    if (this.usedBytes(key) + entryBytes(key, value) > CLIENT_STORAGE_QUOTA_BYTES) {
      throw new Error('clientStorage quota exceeded: a plugin may store at most 5 MB');
    }
    this.store.set(key, clonePlain(value));
  }
  async deleteAsync(key: string): Promise<void> {
    this.store.delete(key);
  }
  async keysAsync(): Promise<string[]> {
    return [...this.store.keys()];
  }
  /** Test side: the raw stored value. */
  peek(key: string): unknown {
    return this.store.get(key);
  }
}

function entryBytes(key: string, value: unknown): number {
  const binary = (v: unknown): number => {
    if (v instanceof Uint8Array) return v.byteLength;
    if (v && typeof v === 'object') return Object.values(v).reduce<number>((sum, child) => sum + binary(child), 0);
    return 0;
  };
  const json = JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? null : v)) ?? '';
  return utf8Bytes(key) + utf8Bytes(json) + binary(value);
}

export class FakeFigma {
  readonly history = new UndoHistory();
  readonly ui = new FakeUi();
  readonly clientStorage = new FakeClientStorage();
  readonly notifications: Notification[] = [];
  readonly exports: Array<{ nodeId: string; settings: ExportSettings; width: number; height: number }> = [];
  readonly images = new Map<string, StoredImage>();
  readonly videos = new Map<string, Uint8Array>();
  /** Video can be added only in paid teams (Education, Professional, Organization). */
  paidPlan = true;
  /** Ids of nodes passed to viewport.scrollAndZoomIntoView. */
  readonly scrolledTo: string[][] = [];
  readonly pages: FakePage[] = [];
  currentPageNode: FakePage;
  private idCounter = 0;
  private nodes = new Map<string, FakeBaseNode>();
  private listeners = new Map<string, Handler[]>();
  private scheduled = new Set<string>();

  /** The object handed to the bridge in place of the `figma` global. */
  readonly figma: FigmaApi;

  constructor() {
    this.currentPageNode = this.addPage('Page 1');
    this.history.clear();
    this.figma = this.buildApi();
  }

  nextId(): string {
    this.idCounter += 1;
    return `1:${this.idCounter}`;
  }
  register(node: FakeBaseNode): void {
    this.nodes.set(node.id, node);
  }
  hasImage(hash: string): boolean {
    return this.images.has(hash);
  }
  pageOf(node: FakeBaseNode): FakePage | null {
    let n: FakeBaseNode | null = node;
    while (n && !(n instanceof FakePage)) n = n._parent;
    return n;
  }

  // ---- events
  on(type: string, callback: Handler): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), callback]);
  }
  off(type: string, callback: Handler): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((c) => c !== callback));
  }
  /** Figma runs event callbacks asynchronously and coalesces repeats. */
  emitLater(type: string): void {
    if (this.scheduled.has(type)) return;
    this.scheduled.add(type);
    setTimeout(() => {
      this.scheduled.delete(type);
      for (const callback of this.listeners.get(type) ?? []) callback();
    }, 0);
  }

  // ---- scene building for tests (not undoable: call before the action under test)
  addPage(name: string): FakePage {
    const page = new FakePage(this, name);
    this.pages.push(page);
    return page;
  }
  private build<T extends FakeSceneNode>(node: T, parent: Container): T {
    parent.appendChild(node);
    this.history.clear();
    return node;
  }
  addFrame(parent: Container, name: string, box: Partial<Box>, fills?: Paint[]): FakeFrame {
    const frame = this.build(new FakeFrame(this, name, box), parent);
    frame.fills = fills ?? [{ type: 'SOLID', color: { r: 1, g: 1, b: 1 } }];
    this.history.clear();
    return frame;
  }
  addGroup(parent: Container, name: string, children: FakeSceneNode[]): FakeGroup {
    const group = this.build(new FakeGroup(this, name), parent);
    for (const child of children) group.appendChild(child);
    this.history.clear();
    return group;
  }
  addRectangle(parent: Container, name: string, box: Partial<Box>, fills?: Paint[]): FakeRectangle {
    const rect = this.build(new FakeRectangle(this, name, box), parent);
    if (fills) rect.fills = fills;
    this.history.clear();
    return rect;
  }
  addEllipse(parent: Container, name: string, box: Partial<Box>, fills?: Paint[]): FakeEllipse {
    const ellipse = this.build(new FakeEllipse(this, name, box), parent);
    if (fills) ellipse.fills = fills;
    this.history.clear();
    return ellipse;
  }
  /** A rectangle filled with `bytes` (stored as Figma stores an imported image). */
  addImage(parent: Container, name: string, box: Partial<Box>, bytes: Uint8Array, scaleMode: ImagePaint['scaleMode'] = 'FILL'): FakeRectangle {
    const image = this.figma.createImage(bytes);
    return this.addRectangle(parent, name, box, [{ type: 'IMAGE', imageHash: image.hash, scaleMode }]);
  }
  addLine(parent: Container, name: string, box: Partial<Box>): FakeLine {
    return this.build(new FakeLine(this, name, box), parent);
  }
  addSlice(parent: Container, name: string, box: Partial<Box>): FakeSlice {
    return this.build(new FakeSlice(this, name, box), parent);
  }
  addConnector(parent: Container, name: string, box: Partial<Box>): FakeConnector {
    return this.build(new FakeConnector(this, name, box), parent);
  }
  /** Gives `frame` animated content: its video export returns `clip`. */
  animate(frame: FakeFrame, clip: Uint8Array): void {
    frame._animation = new Uint8Array(clip);
  }
  /** The user selects nodes on the current page. */
  select(...nodes: FakeSceneNode[]): void {
    this.currentPageNode.selection = nodes;
  }
  /** The user deletes a node. */
  deleteNode(node: FakeSceneNode): void {
    node.remove();
    this.history.commit();
  }
  nodeById(id: string): FakeBaseNode | undefined {
    const node = this.nodes.get(id);
    return node && !node.removed ? node : undefined;
  }

  private createImage(data: Uint8Array): Image {
    if (!(data instanceof Uint8Array)) throw new Error('createImage takes a Uint8Array');
    const { width, height } = imageSize(data);
    if (width > FIGMA_MAX_IMAGE_EDGE || height > FIGMA_MAX_IMAGE_EDGE) throw new Error('Image is too large');
    if (width < 1 || height < 1) throw new Error('Image is invalid: it has no pixels');
    const hash = createHash('sha1').update(data).digest('hex');
    if (!this.images.has(hash)) this.images.set(hash, { bytes: new Uint8Array(data), width, height });
    return this.imageHandle(hash);
  }
  private imageHandle(hash: string): Image {
    const stored = () => {
      const image = this.images.get(hash);
      if (!image) throw new Error(`Image ${hash} is gone`);
      return image;
    };
    return Object.freeze({
      hash,
      getBytesAsync: async () => new Uint8Array(stored().bytes),
      getSizeAsync: async () => ({ width: stored().width, height: stored().height }),
    });
  }

  private buildApi(): FigmaApi {
    // The API object's methods are plain functions (as Figma's are): they reach the fake's state through this alias.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    const viewport = {
      center: { x: 0, y: 0 },
      zoom: 1,
      scrollAndZoomIntoView(nodes: ReadonlyArray<unknown>) {
        if (!Array.isArray(nodes) || nodes.some((n) => !(n instanceof FakeBaseNode) || n.removed)) {
          throw new Error('scrollAndZoomIntoView takes existing nodes');
        }
        fake.scrolledTo.push(nodes.map((n) => (n as FakeBaseNode).id));
      },
    };
    const api = {
      apiVersion: '1.0.0' as const,
      get currentPage() {
        return fake.currentPageNode;
      },
      set currentPage(_page: unknown) {
        throw new Error('Cannot set figma.currentPage with "documentAccess": "dynamic-page". Use figma.setCurrentPageAsync instead.');
      },
      async setCurrentPageAsync(page: FakePage) {
        if (!(page instanceof FakePage)) throw new Error('setCurrentPageAsync takes a page');
        fake.currentPageNode = page;
        fake.emitLater('currentpagechange');
        fake.emitLater('selectionchange');
      },
      getNodeById() {
        throw new Error('Cannot call figma.getNodeById with "documentAccess": "dynamic-page". Use figma.getNodeByIdAsync instead.');
      },
      getStyleById() {
        throw new Error('Cannot call figma.getStyleById with "documentAccess": "dynamic-page". Use figma.getStyleByIdAsync instead.');
      },
      async getNodeByIdAsync(id: string) {
        if (typeof id !== 'string') throw new Error('getNodeByIdAsync takes a string id');
        return fake.nodeById(id) ?? null;
      },
      getImageByHash(hash: string) {
        return fake.images.has(hash) ? fake.imageHandle(hash) : null;
      },
      createImage: (data: Uint8Array) => fake.createImage(data),
      async createVideoAsync(data: Uint8Array) {
        if (!(data instanceof Uint8Array)) throw new Error('createVideoAsync takes a Uint8Array');
        if (data.length > FIGMA_MAX_VIDEO_BYTES) throw new Error('Video is too large: videos have a maximum size of 100MB');
        if (!isVideoContainer(data)) throw new Error('Invalid video: the data must be encoded as .MP4, .MOV or .WebM');
        if (!fake.paidPlan) throw new Error('Video can only be added to files in a paid Education, Professional, and Organization team');
        const hash = createHash('sha1').update(data).digest('hex');
        if (!fake.videos.has(hash)) fake.videos.set(hash, new Uint8Array(data));
        return Object.freeze({ hash });
      },
      createRectangle() {
        const rect = new FakeRectangle(fake, 'Rectangle', { width: 100, height: 100 });
        // Undoing the creation deletes the node (the other reverts run first, newest to oldest).
        fake.history.record(() => (rect._removed = true));
        rect.fills = [{ type: 'SOLID', color: { r: 0.85, g: 0.85, b: 0.85 } }];
        fake.currentPageNode.appendChild(rect);
        return rect;
      },
      commitUndo: () => fake.history.commit(),
      triggerUndo: () => void fake.history.undo(),
      notify(message: string, options?: NotificationOptions) {
        if (typeof message !== 'string') throw new Error('figma.notify takes a string');
        fake.notifications.push({ message: message.slice(0, NOTIFY_MAX_CHARS), requested: message, error: options?.error === true });
        return { cancel() {} };
      },
      showUI(html: string, options?: ShowUIOptions) {
        if (typeof html !== 'string') throw new Error('figma.showUI takes an HTML string');
        fake.ui.shown = { html, options };
      },
      clientStorage: fake.clientStorage,
      ui: fake.ui,
      viewport,
      on: (type: string, callback: Handler) => fake.on(type, callback),
      off: (type: string, callback: Handler) => fake.off(type, callback),
    };
    // The fake covers the subset in FigmaApi; node classes mirror the typings' fields the bridge reads.
    return api as unknown as FigmaApi;
  }

  /** Lets queued events (selectionchange) run. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export type { FakeSceneNode, FakeBaseNode };
