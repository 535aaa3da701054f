// A clip chosen from a file in the UI (Choose a clip…): works in every host, Photoshop included, because the bytes go
// from the UI straight to the server job and never cross the host bridge. One clip at a time; it stays until cleared.
// What is shown about it comes from the browser's own <video> decoder: duration and size. Browsers do not tell a
// clip's frame rate, so the frame count is an estimate at an assumed 30 fps, and the words say so.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { SelectedItem } from '../plugin/messages.ts';
import type { ChosenClipSource } from './batch.ts';
import { MAX_CLIP_BYTES } from '../worker/video/clip-limit.ts';
import { fetchClipFit, type ClipFit } from '../worker/runtime/jobs-client.ts';

/** The frame rate the estimate assumes (the browser does not expose a clip's own). */
export const ASSUMED_FPS = 30;
const METADATA_TIMEOUT_MS = 15_000;
const TYPES: Record<string, string> = { mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm' };
export const CLIP_ACCEPT = 'video/mp4,video/quicktime,video/webm';

export interface ChosenClip {
  /** Its item id in a run ("file:3"): never a host node id. */
  id: string;
  name: string;
  mime: string;
  /** Size in bytes. */
  size: number;
  /** Seconds. */
  duration: number;
  width: number;
  height: number;
  /** ≈ frames at ASSUMED_FPS. */
  frames: number;
  /** The file itself: read when the run starts, not held twice in memory before. */
  file: Blob;
}

export type ClipState =
  | { state: 'none' }
  | { state: 'reading'; name: string }
  | { state: 'chosen'; clip: ChosenClip }
  | { state: 'refused'; name: string; message: string };

/** The clip's type: the file's own, or from its extension (some systems give .mov files no type). */
export function clipMime(file: { name: string; type: string }): string | null {
  if (Object.values(TYPES).includes(file.type)) return file.type;
  const ext = file.name.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';
  return file.type === '' || file.type === 'application/octet-stream' ? (TYPES[ext] ?? null) : null;
}

/** "340 KB", "4.2 MB", "101 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 2 ** 20) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
}

/** Why this file cannot be sent as a clip, in the designer's words; null when it can. */
export function clipProblem(file: { name: string; type: string; size: number }, maxBytes = MAX_CLIP_BYTES): string | null {
  if (!clipMime(file)) return `“${file.name}” is not a video Frontier takes: choose an MP4, MOV or WebM file.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxBytes) return `“${file.name}” is ${fileSize(file.size)}; video jobs take clips up to ${fileSize(maxBytes)}. Export it shorter or at a lower quality.`;
  return null;
}

/** "0:04" (m:ss), or "12.5 s" under 10 s. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Frames at ASSUMED_FPS, at least 1. */
export const estimatedFrames = (seconds: number) => Math.max(1, Math.round(seconds * ASSUMED_FPS));

/** The clip in one line: "4.0 s · 640 × 360 · 1.2 MB". */
export function clipFacts(clip: Pick<ChosenClip, 'duration' | 'width' | 'height' | 'size'>): string {
  return `${formatDuration(clip.duration)} · ${clip.width} × ${clip.height} · ${fileSize(clip.size)}`;
}

/** The frame estimate, honest about what it assumes: "≈ 120 frames at 30 fps". */
export const framesText = (clip: Pick<ChosenClip, 'frames'>) => `≈ ${clip.frames} frames at ${ASSUMED_FPS} fps`;

/** The chosen clip as an item of a run. */
export function clipItem(clip: ChosenClip): SelectedItem {
  return { nodeId: clip.id, name: clip.name, width: clip.width, height: clip.height, kind: 'video', video: true };
}

/** What a run reads of it: the file's bytes, read when the item's turn comes. */
export function clipSource(clip: ChosenClip): ChosenClipSource {
  return { mime: clip.mime, width: clip.width, height: clip.height, read: async () => new Uint8Array(await clip.file.arrayBuffer()) };
}

/** Duration and frame size from the browser's decoder; fails (with why) when it cannot read the clip. */
export function readClipMetadata(file: Blob): Promise<{ duration: number; width: number; height: number }> {
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'metadata';
  return new Promise<{ duration: number; width: number; height: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the browser did not read it within 15 s')), METADATA_TIMEOUT_MS);
    video.addEventListener('loadedmetadata', () => {
      clearTimeout(timer);
      const { duration, videoWidth: width, videoHeight: height } = video;
      if (!(width > 0 && height > 0)) reject(new Error('it has no picture'));
      else if (!Number.isFinite(duration) || duration <= 0) reject(new Error('its length cannot be read'));
      else resolve({ duration, width, height });
    }, { once: true });
    video.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new Error(video.error?.message || 'the browser cannot decode it'));
    }, { once: true });
    video.src = url;
  }).finally(() => {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  });
}

let clipCounter = 0;

/** The chosen clip: choose a file (checked, then measured), clear it. A newer choice makes an older one's reading moot. */
export function useChosenClip(): { clip: ClipState; choose(file: File): Promise<void>; clear(): void } {
  const [clip, setClip] = useState<ClipState>({ state: 'none' });
  const generation = useRef(0);
  const choose = useCallback(async (file: File) => {
    const mine = ++generation.current;
    const problem = clipProblem(file);
    if (problem) {
      setClip({ state: 'refused', name: file.name, message: problem });
      return;
    }
    setClip({ state: 'reading', name: file.name });
    try {
      const facts = await readClipMetadata(file);
      if (mine !== generation.current) return;
      setClip({
        state: 'chosen',
        clip: { id: `file:${++clipCounter}`, name: file.name, mime: clipMime(file)!, size: file.size, ...facts, frames: estimatedFrames(facts.duration), file },
      });
    } catch (err) {
      if (mine !== generation.current) return;
      setClip({ state: 'refused', name: file.name, message: `Could not read “${file.name}”: ${(err as Error).message}. Choose an MP4, MOV or WebM the browser can play.` });
    }
  }, []);
  const clear = useCallback(() => {
    generation.current++;
    setClip({ state: 'none' });
  }, []);
  return { clip, choose, clear };
}

/**
 * What the chooser says when the server cannot take this clip with the chosen model (GET /jobs/fit), in the
 * designer's words; null when it fits or the server could not say (then the server's own refusal stays the word).
 */
export function clipFitWarning(fit: ClipFit | null): string | null {
  if (!fit || fit.fits) return null;
  const at = fit.largest ? `${fit.largest.width}×${fit.largest.height}` : null;
  if (fit.limit === 'memory') {
    return at
      ? `This clip is too large for ${fit.name} on this server: at most ${at} frames. Choose ESRGAN per frame, or a smaller clip.`
      : `${fit.name} does not fit this server's memory even for the smallest frames. Choose ESRGAN per frame.`;
  }
  return `This clip is too large for this server: frames up to ${at ?? 'a smaller size'}. Export it smaller first.`;
}

/** Where the question "does this clip fit the chosen model on the server?" stands for the chosen clip. */
export interface ClipFitState {
  /** none: nothing to ask (no clip, Automatic, no server); unknown: the server could not say (it refuses at Run if need be). */
  state: 'none' | 'asking' | 'fits' | 'too-large' | 'unknown';
  /** What the chooser says when it does not fit (clipFitWarning); Run is not offered then. */
  warning: string | null;
}

/**
 * Asks the server, once a clip is chosen (and again when the model or server changes), whether the clip fits the
 * chosen model there (GET /jobs/fit). A newer question makes an older answer moot.
 */
export function useClipFit(opts: { clip: Pick<ChosenClip, 'id' | 'width' | 'height' | 'frames'> | null; model: string | undefined; serverUrl: string; token: string }): ClipFitState {
  const [answer, setAnswer] = useState<{ key: string; fit: ClipFitState } | null>(null);
  const { clip, model } = opts;
  const serverUrl = opts.serverUrl.trim().replace(/\/+$/, '');
  const key = clip && model && serverUrl ? [clip.id, model, serverUrl, opts.token].join('\n') : '';
  useEffect(() => {
    if (!key || !clip || !model) return;
    const abort = new AbortController();
    fetchClipFit({ baseUrl: serverUrl, token: opts.token || undefined }, { model, width: clip.width, height: clip.height, frames: clip.frames }, abort.signal).then(
      (fit) => {
        if (abort.signal.aborted) return;
        const warning = clipFitWarning(fit);
        setAnswer({ key, fit: { state: !fit ? 'unknown' : warning ? 'too-large' : 'fits', warning } });
      },
      () => !abort.signal.aborted && setAnswer({ key, fit: { state: 'unknown', warning: null } }),
    );
    return () => abort.abort();
  }, [key]);
  if (!key) return { state: 'none', warning: null };
  return answer && answer.key === key ? answer.fit : { state: 'asking', warning: null };
}
