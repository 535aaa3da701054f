// The engine process's side of a TTVSR video job (engine-process.ts): one window at a time, the whole recurrence of
// the window in this process (worker/video/ttvsr.ts over in-process onnxruntime-node sessions of the five parts),
// so the recurrent state (keyframe token buffers [1,K,16C,H/4,W/4], hundreds of MB at 180p full width) never crosses
// HTTP or IPC: frames go in, ×4 frames come out. Windows are stateless; sessions stay loaded between windows and
// jobs. Model bytes come from the server's model folder and are checked against their cards (sha256).
import type { ModelCard } from '../../worker/models/card.ts';
import { FileModelSource } from '../../worker/models/file-source.ts';
import { loadModelBytes } from '../../worker/models/loader.ts';
import { createOrtNodeRuntime } from '../../worker/runtime/ort-node.ts';
import type { Runtime, Session } from '../../worker/runtime/runtime.ts';
import { upscaleWindowRgb24, type RunPart } from '../../worker/video/ttvsr.ts';
import type { EngineOut, TtvsrWindowIn } from './engine-messages.ts';

export class TtvsrWindows {
  private readonly source: FileModelSource;
  private readonly runtime: Runtime;
  /** By card id and sha256 (a card installed again with other weights gets a new session). */
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(modelDir: string) {
    this.source = new FileModelSource(modelDir);
    // A GPU server runs the parts on CUDA when onnxruntime-node's CUDA files are installed, as engine jobs do.
    this.runtime = createOrtNodeRuntime({ cuda: true });
  }

  private session(card: ModelCard): Promise<Session> {
    const key = `${card.id}|${card.files[0]?.sha256}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.runtime.createSession(card, () => loadModelBytes(card, this.source, () => {}));
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /** Runs one window, sending each kept frame as it is made, then 'window-done' (or 'failed'). */
  async run(msg: TtvsrWindowIn, send: (out: EngineOut) => void): Promise<void> {
    try {
      const sessions = Object.fromEntries(await Promise.all(Object.entries(msg.parts).map(async ([part, card]) => [part, await this.session(card)] as const)));
      const runPart: RunPart = (part, feeds) => sessions[part].run(feeds);
      for await (const { index, rgb } of upscaleWindowRgb24(msg.frames, msg, msg, runPart)) send({ type: 'window-frame', id: msg.id, index, rgb });
      send({ type: 'window-done', id: msg.id });
    } catch (err) {
      send({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
}
