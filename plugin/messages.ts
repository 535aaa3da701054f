// The host bridge contract: the one table of messages between a host (Figma main thread, Photoshop panel,
// playground page) and the UI. Payloads are plain JSON data plus Uint8Array, the only binary type
// Figma's bridge carries; the Photoshop adapter encodes Uint8Array as base64 for its JSON-only bridge.
// Pixels cross as raw RGBA where the host has raw pixels (Photoshop's imaging API), and as encoded files where the host
// deals in files: Figma's createImage takes only PNG/JPEG/GIF bytes and an image fill's getBytesAsync gives its
// original file, so Figma (and the playground, which mimics it) keep encoded images both ways.
import type { ResultMeta, Target } from '../worker/job.ts';

export type HostName = 'figma' | 'photoshop' | 'playground';
export type PlaceMode = 'beside' | 'replace-fill';

export interface Settings {
  /** Where tasks run unless the task has its own choice in `targets`. */
  target: Target;
  /** "Run on" chosen for a task, by task id: choosing it for one task does not change the others. */
  targets?: Record<string, Target>;
  /** Each task's settings as of its last run, by task id (the UI starts from them next time). */
  params?: Record<string, Record<string, string | number | boolean>>;
  /** Base URL of the model host / local companion server, e.g. http://127.0.0.1:8740 */
  serverUrl: string;
  /** Bearer token for a remote server; never logged. */
  token: string;
  placeMode: PlaceMode;
  /** Photoshop: read the merged image of all visible layers instead of the active layer alone. */
  readMerged?: boolean;
}

export const DEFAULT_PORT = 8740;
export const DEFAULT_SETTINGS: Settings = {
  target: 'auto',
  serverUrl: `http://127.0.0.1:${DEFAULT_PORT}`,
  token: '',
  placeMode: 'beside',
};

/** Largest image edge a host accepts (Figma's createImage limit). */
export const MAX_IMAGE_EDGE = 4096;

/** The `mime` of raw pixels: straight (not premultiplied) 8-bit RGBA, rows top to bottom, no header, exactly
 *  width × height × 4 bytes. Photoshop reads and writes such pixels, so a file format would only add an encode and a
 *  decode on each side of its bridge. */
export const RAW_RGBA = 'rgba';
/** How an image's bytes are written: a PNG or JPEG file, or raw pixels (RAW_RGBA). */
export type ImageMime = 'image/png' | 'image/jpeg' | typeof RAW_RGBA;

export interface SelectedItem {
  nodeId: string;
  name: string;
  /** Pixel size the host will deliver for this item (native image size, or export size). */
  width: number;
  height: number;
  kind: 'image' | 'frame' | 'layer' | 'region' | 'video';
  /** The host can read this item as a video clip (a video layer, or a top-level frame Figma exports as MP4). */
  video?: boolean;
  /** How the item was made, when Frontier made it (its stored ResultMeta): generated images can be varied or turned. */
  meta?: ResultMeta;
  /** A region marked on this item that inpainting fills: Figma shapes drawn over the image, Photoshop's marquee,
   *  a mask drawn in the playground. `label` says which, for the UI ("Rectangle 2", "Marquee selection"). */
  mask?: { label: string };
}

/** One piece of a mask, in the item's pixel coordinates (the `image` answer's width × height). Pieces combine by
 *  maximum; a piece may reach outside the image (a shape overlapping its edge) and is clipped there. Its pixels are
 *  either a PNG whose alpha (or grey level, when it has no alpha) is how much of each pixel to fill (Figma's shapes,
 *  exported as files), or `alpha`: raw, one byte per pixel, width × height bytes, how much to fill (Photoshop's
 *  selection as its imaging API reads it). 255 = fill, 0 = keep. */
export type MaskPart = { x: number; y: number; width: number; height: number } & (
  | { png: Uint8Array; alpha?: undefined }
  | { alpha: Uint8Array; png?: undefined }
);

export interface SelectionSummary {
  items: SelectedItem[];
  /** Why nothing usable is selected (empty selection, unsupported node type); shown to the user. */
  problem?: string;
}

export interface HostInfo {
  name: HostName;
  version: string;
  /** Largest image edge the host can place. */
  maxImageEdge: number;
  /** Whether the host can take video results. */
  video: boolean;
  /** 'rgba': the host reads and places raw pixels (RAW_RGBA: Photoshop). Absent: encoded files (PNG/JPEG) both ways. */
  pixels?: 'rgba';
  /** How it takes them: as a node on the canvas (Figma, the playground), or saved to a file the designer picks and
   *  opened as a new document (Photoshop). Absent: on the canvas. */
  videoPlace?: 'canvas' | 'saved-file';
}

/** Messages the UI sends to the host. */
export interface UiToHost {
  'ui-ready': Record<never, never>;
  /** Ask for an item's pixels (answered by `image`). `withMask`: inpainting wants the whole item plus its mask
   *  (Photoshop then reads the whole layer instead of cutting it to the marquee). */
  'read-image': { requestId: string; nodeId: string; withMask?: boolean };
  'place-result': PlaceResultFields & ResultPixels;
  /** Ask for an item's clip (answered by `video`). */
  'read-video': { requestId: string; nodeId: string };
  'place-video': {
    requestId: string;
    /** The clip it was made from; absent for a clip chosen in the UI (a file): the host places it where a new result
     *  goes (Figma: in view; the playground: a free spot in view). */
    sourceNodeId?: string;
    /** The encoded clip (MP4). */
    bytes: Uint8Array;
    mime: string;
    width: number;
    height: number;
    name: string;
    meta: ResultMeta;
  };
  notify: { message: string; error?: boolean };
  'save-settings': { settings: Settings };
  /** Which of these nodes are still in the document (answered by `nodes`): a result undone is no longer shown as made. */
  'check-nodes': { requestId: string; nodeIds: string[] };
  /** Show a result in the document (the Results list): select it and bring it into view. No answer: a node that is
   *  gone is said by the host (a toast where it has one) and by the next check-nodes. */
  'show-node': { nodeId: string };
}

/** A result's pixels for place-result: a PNG file (hosts that place files: Figma, the playground), or raw RGBA
 *  (RAW_RGBA, width × height × 4 bytes) for a host whose HostInfo.pixels is 'rgba'. */
export type ResultPixels = { png: Uint8Array; rgba?: undefined } | { rgba: Uint8Array; png?: undefined };

/** The PNG of a place-result, for a host that places files (Figma, the playground); raw pixels are refused. */
export function resultPng(msg: ResultPixels): Uint8Array {
  if (!msg.png) throw new Error('the result came as raw pixels, which this host does not place. Reload the plugin so all its parts are the same version');
  return msg.png;
}

export interface PlaceResultFields {
  requestId: string;
  sourceNodeId: string;
  width: number;
  height: number;
  /** Name for the new node/layer, e.g. "Upscale ×4 (esrgan-thick)". */
  name: string;
  mode: PlaceMode;
  meta: ResultMeta;
  /** A batch laid out as a grid (generated variations): cell `index` of a `columns`-wide grid whose first cell is
   *  the node `anchorNodeId` placed earlier. Hosts without a canvas (Photoshop layers) ignore it. */
  grid?: { anchorNodeId: string; index: number; columns: number };
}

/** What the UI asks a host to place (place-result without its requestId). */
export type PlaceRequest = Omit<PlaceResultFields, 'requestId'> & ResultPixels;

/** Messages the host sends to the UI. */
export interface HostToUi {
  init: { host: HostInfo; settings: Settings; selection: SelectionSummary };
  'selection-changed': { selection: SelectionSummary };
  /** Answer to read-image: the item's pixels, PNG or JPEG encoded, or raw (mime RAW_RGBA: Photoshop). */
  image: {
    requestId: string;
    nodeId: string;
    bytes: Uint8Array;
    mime: ImageMime;
    width: number;
    height: number;
    /** Only when read-image asked `withMask` and the item has a mask (SelectedItem.mask). */
    mask?: MaskPart[];
  };
  /** Answer to read-video: the item's clip, encoded (MP4, QuickTime or WebM). */
  video: { requestId: string; nodeId: string; bytes: Uint8Array; mime: string; width: number; height: number };
  /** Answer to place-result and place-video. */
  placed: { requestId: string; nodeId: string };
  /** Answer to check-nodes: those of the ids asked that are in the document. */
  nodes: { requestId: string; present: string[] };
  /** Answer to a request that failed; `message` says what to do. */
  'request-failed': { requestId: string; message: string };
  theme: { mode: 'light' | 'dark' };
}

export type Message<Table, K extends keyof Table = keyof Table> = K extends keyof Table ? { type: K } & Table[K] : never;
export type UiMessage = Message<UiToHost>;
export type HostMessage = Message<HostToUi>;

type Kind = 'string' | 'number' | 'boolean' | 'bytes' | 'object';
/** `kind?`: an optional field, checked only when present. */
type FieldKind = Kind | `${Kind}?`;
/** Fields per message, checked at each end so a malformed message fails loudly instead of half-working. */
const UI_TO_HOST_FIELDS: { [K in keyof UiToHost]: Record<string, FieldKind> } = {
  'ui-ready': {},
  'read-image': { requestId: 'string', nodeId: 'string' },
  'place-result': { requestId: 'string', sourceNodeId: 'string', png: 'bytes?', rgba: 'bytes?', width: 'number', height: 'number', name: 'string', mode: 'string', meta: 'object' },
  'read-video': { requestId: 'string', nodeId: 'string' },
  'place-video': { requestId: 'string', sourceNodeId: 'string?', bytes: 'bytes', mime: 'string', width: 'number', height: 'number', name: 'string', meta: 'object' },
  notify: { message: 'string' },
  'save-settings': { settings: 'object' },
  'check-nodes': { requestId: 'string', nodeIds: 'object' },
  'show-node': { nodeId: 'string' },
};
const HOST_TO_UI_FIELDS: { [K in keyof HostToUi]: Record<string, FieldKind> } = {
  init: { host: 'object', settings: 'object', selection: 'object' },
  'selection-changed': { selection: 'object' },
  image: { requestId: 'string', nodeId: 'string', bytes: 'bytes', mime: 'string', width: 'number', height: 'number' },
  video: { requestId: 'string', nodeId: 'string', bytes: 'bytes', mime: 'string', width: 'number', height: 'number' },
  placed: { requestId: 'string', nodeId: 'string' },
  nodes: { requestId: 'string', present: 'object' },
  'request-failed': { requestId: 'string', message: 'string' },
  theme: { mode: 'string' },
};

/** Why raw RGBA `bytes` do not fill width × height, or null when they do exactly. */
export function rawSizeProblem(what: string, bytes: Uint8Array, width: number, height: number): string | null {
  const expected = width * height * 4;
  return bytes.length === expected ? null : `${what} has ${bytes.length} bytes where ${width}×${height} RGBA is ${expected}`;
}

/** Raw pixels of message `m` (when it carries them) checked against its size; sizes that are not numbers are left to
 *  the field checks. */
function rawProblem(what: string, bytes: unknown, m: Record<string, unknown>): string | null {
  if (!(bytes instanceof Uint8Array) || typeof m.width !== 'number' || typeof m.height !== 'number') return null;
  return rawSizeProblem(what, bytes, m.width, m.height);
}

/** Checks beyond field kinds: which pixels a message carries, and that raw pixels fill their size. */
const PIXEL_CHECKS: Record<string, (m: Record<string, unknown>) => string | null> = {
  'place-result': (m) => {
    if (m.png === undefined && m.rgba === undefined) return 'place-result.png must be bytes (or rgba: raw pixels)';
    if (m.png !== undefined && m.rgba !== undefined) return 'place-result carries png or rgba, not both';
    return rawProblem('place-result.rgba', m.rgba, m);
  },
  image: (m) => (m.mime === RAW_RGBA ? rawProblem('image.bytes', m.bytes, m) : null),
};

function check(table: Record<string, Record<string, FieldKind>>, msg: unknown): string | null {
  if (!msg || typeof msg !== 'object') return 'message is not an object';
  const m = msg as Record<string, unknown>;
  if (typeof m.type !== 'string' || !(m.type in table)) return `unknown message type ${String(m.type)}`;
  const pixels = PIXEL_CHECKS[m.type]?.(m);
  if (pixels) return pixels;
  for (const [field, spec] of Object.entries(table[m.type])) {
    const v = m[field];
    const kind = spec.replace('?', '') as Kind;
    if (spec.endsWith('?') && v === undefined) continue;
    const ok =
      kind === 'bytes' ? v instanceof Uint8Array : kind === 'object' ? v !== null && typeof v === 'object' : typeof v === kind;
    if (!ok) return `${m.type}.${field} must be ${kind}${spec.endsWith('?') ? ' when given' : ''}`;
  }
  return null;
}

/** Returns why `msg` is not a valid UI→host message, or null when it is. */
export const checkUiMessage = (msg: unknown): string | null => check(UI_TO_HOST_FIELDS, msg);
/** Returns why `msg` is not a valid host→UI message, or null when it is. */
export const checkHostMessage = (msg: unknown): string | null => check(HOST_TO_UI_FIELDS, msg);

/** Largest integer scale (from `scales`) whose result fits within maxEdge, or 0 if none does. */
export function largestFittingScale(width: number, height: number, scales: number[], maxEdge = MAX_IMAGE_EDGE): number {
  const fit = scales.filter((s) => width * s <= maxEdge && height * s <= maxEdge);
  return fit.length ? Math.max(...fit) : 0;
}
