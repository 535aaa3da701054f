// The Results list: what this session made, newest first, bounded. An entry keeps only what the list shows and what
// "Use these settings" needs (a ≤64 px thumbnail as a data URL, never the full-size result), and whether its node is
// still in the document (the same check-nodes round-trip the result card uses).
import { useCallback, useRef, useState } from 'preact/hooks';
import type { Params, RgbaImage } from '../worker/job.ts';
import type { ParamSpec, TaskInfo } from '../worker/tasks/task.ts';
import type { ItemResult } from './batch.ts';
import { placeName, taskDisplay } from './format.ts';
import { canvasOf } from './image-url.ts';

/** How many results the list keeps. */
export const HISTORY_LIMIT = 20;
/** Longest edge of a thumbnail, in pixels. */
export const THUMB_EDGE = 64;

export interface HistoryEntry {
  id: number;
  /** The node the result became; null when the host could not take it (a clip to download). */
  nodeId: string | null;
  /** What made it, in designer words: "Upscale ×4 · Best", "Remove rain". */
  words: string;
  /** "this computer", "the server". */
  where: string;
  ms: number;
  /** When it was made (epoch ms). */
  at: number;
  thumb?: string;
  video: boolean;
  taskId: string;
  params: Params;
  /** The model chosen by hand for the run ('' or absent: Automatic). */
  model?: string;
  /** Its node is no longer in the document (undone or deleted). */
  removed: boolean;
}

function say(spec: ParamSpec, value: Params[string]): string {
  switch (spec.type) {
    case 'choice':
      return spec.choices.find((c) => c.value === value)?.label ?? String(value);
    case 'string': {
      // A long prompt is cut at a word, so the line still reads.
      const text = String(value).trim().replace(/\s+/g, ' ');
      if (text.length <= 28) return `“${text}”`;
      const cut = text.slice(0, 27);
      const space = cut.lastIndexOf(' ');
      return `“${space > 10 ? cut.slice(0, space) : cut}…”`;
    }
    case 'boolean':
      return value ? spec.label : `no ${spec.label.toLowerCase()}`;
    default:
      return `${spec.label.replace(/\s*\(°\)$/, '').toLowerCase()} ${String(value)}${/\(°\)/.test(spec.label) ? '°' : ''}`;
  }
}

/** "Upscale ×4 · Best", "Remove rain", "Text to image · “a red kite”": the task and the settings that tell its runs
 *  apart (its row's TaskDisplay.mainParams; none: the label alone). */
export function resultWords(task: Pick<TaskInfo, 'id' | 'label' | 'params' | 'display'>, params: Params): string {
  let head = task.label;
  const parts: string[] = [];
  for (const main of taskDisplay(task).mainParams ?? []) {
    const { name, place } = typeof main === 'string' ? { name: main, place: undefined } : main;
    const spec = task.params.find((p) => p.name === name);
    if (!spec || params[name] === undefined) continue;
    const words = say(spec, params[name]);
    if (place === 'title') head = words; // "Remove rain", not "Restore · Remove rain"
    else if (place === 'label') head = `${head} ${words}`; // "Upscale ×4"
    else parts.push(words);
  }
  return [head, ...parts].join(' · ');
}

/** "14:32": when an entry was made, in the viewer's clock. */
export function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The entry for a result just made; `params` and `model` are the run's, as the UI had them. */
export function entryFor(id: number, result: ItemResult, task: TaskInfo, params: Params, model: string, at = Date.now()): HistoryEntry {
  return {
    id, nodeId: result.placedNodeId, words: resultWords(task, params), where: placeName(result.meta.target), ms: result.ms, at,
    video: !!result.video, taskId: task.id, params: { ...params }, ...(model ? { model } : {}), removed: false,
  };
}

/** Newest first, at most HISTORY_LIMIT. */
export function withEntry(list: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  return [entry, ...list].slice(0, HISTORY_LIMIT);
}

/** Marks the entries whose node was asked about as there or removed (Redo brings one back); the same list when
 *  nothing changed, so a render is not spent on it. */
export function withPresence(list: HistoryEntry[], asked: string[], present: string[]): HistoryEntry[] {
  const askedSet = new Set(asked);
  const presentSet = new Set(present);
  let changed = false;
  const next = list.map((e) => {
    if (!e.nodeId || !askedSet.has(e.nodeId)) return e;
    const removed = !presentSet.has(e.nodeId);
    if (removed === e.removed) return e;
    changed = true;
    return { ...e, removed };
  });
  return changed ? next : list;
}

/** A PNG thumbnail (data URL) whose longest edge is at most `edge` px, from a PNG or from raw pixels (drawn on a
 *  canvas: not encoded at full size); the full-size picture is dropped at once. */
export async function thumbnail(pixels: Uint8Array | RgbaImage, edge = THUMB_EDGE): Promise<string> {
  const url = pixels instanceof Uint8Array ? URL.createObjectURL(new Blob([pixels as BlobPart], { type: 'image/png' })) : undefined;
  try {
    let source: HTMLImageElement | HTMLCanvasElement;
    if (url) {
      const img = new Image();
      img.src = url;
      await img.decode();
      source = img;
    } else {
      source = canvasOf(pixels as RgbaImage);
    }
    const width = source instanceof HTMLImageElement ? source.naturalWidth : source.width;
    const height = source instanceof HTMLImageElement ? source.naturalHeight : source.height;
    const k = Math.min(1, edge / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * k));
    canvas.height = Math.max(1, Math.round(height * k));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/png');
  } finally {
    if (url) URL.revokeObjectURL(url);
  }
}

/** The session's Results list and its updates. */
export function useResultsHistory() {
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  // A ref, not state: the results of one batch arrive before a render, and each needs its own id.
  const nextId = useRef(1);
  const add = useCallback((result: ItemResult, task: TaskInfo, params: Params, model: string) => {
    const id = nextId.current++;
    setEntries((list) => withEntry(list, entryFor(id, result, task, params, model)));
    // The thumbnail follows; a result that cannot be drawn small keeps its placeholder.
    const pixels = result.png ?? result.image;
    if (pixels) {
      thumbnail(pixels).then(
        (thumb) => setEntries((list) => (list.some((e) => e.id === id) ? list.map((e) => (e.id === id ? { ...e, thumb } : e)) : list)),
        () => undefined,
      );
    }
  }, []);
  const markPresence = useCallback((asked: string[], present: string[]) => setEntries((list) => withPresence(list, asked, present)), []);
  return { entries, add, markPresence };
}
