// The simulated host bridge: answers the UI exactly as the Figma main thread would, over the same message table
// (plugin/messages.ts), and checks every message both ways so a malformed one fails loudly here first.
import {
  checkHostMessage,
  checkUiMessage,
  MAX_IMAGE_EDGE,
  resultPng,
  type HostInfo,
  type HostMessage,
  type Settings,
  type UiMessage,
  type UiToHost,
} from '../../plugin/messages.ts';
import { FRONTIER_VERSION } from '../../worker/job.ts';
import { bitmapFromBytes, composite, crop, whitePng, pngSize, type Bitmap } from './bitmap.ts';
import { openClip, type Clip } from './video.ts';
import type { DocNode, PlaygroundDocument, Region } from './document.ts';

export const HOST_INFO: HostInfo = { name: 'playground', version: FRONTIER_VERSION, maxImageEdge: MAX_IMAGE_EDGE, video: true, videoPlace: 'canvas' };
/** pluginData key holding the result's ResultMeta as JSON. */
export const META_KEY = 'frontier';

/** A region is in node coordinates; after a 'replace-fill' the node's bitmap can have another size. */
function regionInBitmap(node: DocNode<Bitmap, Clip>, region: Region): Region {
  const sx = node.bitmap.width / node.width;
  const sy = node.bitmap.height / node.height;
  const x = Math.round(region.x * sx);
  const y = Math.round(region.y * sy);
  return { ...region, x, y, width: Math.max(1, Math.round((region.x + region.width) * sx) - x), height: Math.max(1, Math.round((region.y + region.height) * sy) - y) };
}

export interface LogEntry {
  direction: 'ui→host' | 'host→ui';
  type: string;
  summary: string;
}

export interface HostDeps {
  doc: PlaygroundDocument<Bitmap, Clip>;
  /** Delivers `{ pluginMessage }` to the UI iframe. */
  post(data: { pluginMessage: HostMessage }): void;
  toast(message: string, error?: boolean): void;
  loadSettings(): Settings;
  saveSettings(settings: Settings): void;
  theme(): 'light' | 'dark';
  /** Called after each logged message (for the page's message list). */
  onLog?(entry: LogEntry): void;
  /** Brings a node into view (the page scrolls, and zooms out if it must), as Figma's bridge does with a result. */
  reveal?(nodeId: string): void;
  /** The part of the canvas in view (document coordinates): where a result with no source goes when it has room. */
  viewArea?(): { x: number; y: number; width: number; height: number };
}

function summarize(msg: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(msg)) {
    if (key === 'type') continue;
    if (value instanceof Uint8Array) parts.push(`${key}: ${value.length} bytes`);
    else if (typeof value === 'object' && value !== null) parts.push(`${key}: {…}`);
    else parts.push(`${key}: ${String(value).slice(0, 60)}`);
  }
  return parts.join(', ');
}

export class SimulatedHost {
  readonly log: LogEntry[] = [];
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private uiReady = false;
  private lastSelection = '';

  constructor(private deps: HostDeps) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    deps.doc.onChange(() => this.sendSelectionIfChanged());
  }

  private record(direction: LogEntry['direction'], msg: Record<string, unknown>): void {
    const entry = { direction, type: String(msg.type), summary: summarize(msg) };
    this.log.push(entry);
    if (this.log.length > 500) this.log.shift();
    this.deps.onLog?.(entry);
  }

  send(msg: HostMessage): void {
    const problem = checkHostMessage(msg);
    if (problem) throw new Error(`The playground host built an invalid message: ${problem}`);
    this.record('host→ui', msg as unknown as Record<string, unknown>);
    this.deps.post({ pluginMessage: msg });
  }

  sendTheme(): void {
    if (this.uiReady) this.send({ type: 'theme', mode: this.deps.theme() });
  }

  private sendSelectionIfChanged(): void {
    if (!this.uiReady) return;
    const selection = this.deps.doc.selectionSummary();
    const key = JSON.stringify(selection);
    if (key === this.lastSelection) return;
    this.lastSelection = key;
    this.send({ type: 'selection-changed', selection });
  }

  /** Handles one `message` event's data from the UI iframe. */
  async receive(data: unknown): Promise<void> {
    if (!data || typeof data !== 'object' || !('pluginMessage' in data)) return;
    const msg = (data as { pluginMessage: unknown }).pluginMessage;
    const problem = checkUiMessage(msg);
    if (problem) {
      this.record('ui→host', { type: 'invalid', problem });
      this.deps.toast(`The UI sent an invalid message: ${problem}`, true);
      const requestId = (msg as { requestId?: unknown } | null)?.requestId;
      if (typeof requestId === 'string') this.send({ type: 'request-failed', requestId, message: `Invalid message: ${problem}` });
      return;
    }
    const uiMsg = msg as UiMessage;
    this.record('ui→host', uiMsg as unknown as Record<string, unknown>);
    switch (uiMsg.type) {
      case 'ui-ready':
        return this.init();
      case 'read-image':
        return this.answer(uiMsg.requestId, () => this.readImage(uiMsg));
      case 'place-result':
        return this.answer(uiMsg.requestId, () => this.placeResult(uiMsg));
      case 'read-video':
        return this.answer(uiMsg.requestId, async () => this.readVideo(uiMsg));
      case 'place-video':
        return this.answer(uiMsg.requestId, () => this.placeVideo(uiMsg));
      case 'check-nodes': {
        const present = uiMsg.nodeIds.slice(0, 100).filter((id) => typeof id === 'string' && !!this.deps.doc.node(id));
        this.send({ type: 'nodes', requestId: uiMsg.requestId, present });
        return;
      }
      case 'show-node':
        this.showNode(uiMsg.nodeId);
        return;
      case 'notify':
        this.deps.toast(uiMsg.message, uiMsg.error);
        return;
      case 'save-settings':
        this.deps.saveSettings(uiMsg.settings);
        return;
    }
  }

  private init(): void {
    this.uiReady = true;
    const selection = this.deps.doc.selectionSummary();
    this.lastSelection = JSON.stringify(selection);
    this.send({ type: 'init', host: HOST_INFO, settings: this.deps.loadSettings(), selection });
    this.sendTheme();
    this.markReady();
  }

  /** Runs a request and answers request-failed with its message when it throws. */
  private async answer(requestId: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.send({ type: 'request-failed', requestId, message });
    }
  }

  private async readImage(msg: { type: 'read-image' } & UiToHost['read-image']): Promise<void> {
    const { node, region } = this.deps.doc.resolve(msg.nodeId);
    if (node.clip) throw new Error(`${node.name} is a video: choose Upscale video in Task, or select an image.`);
    if (msg.withMask) {
      // Inpainting reads the whole image and the region as its mask (as Photoshop does with a marquee).
      if (!region) throw new Error(`Nothing marks what to fill in ${node.name}: drag across the image to select the region to fill.`);
      const r = regionInBitmap(node, region);
      const mask = [{ png: await whitePng(r.width, r.height), x: r.x, y: r.y, width: r.width, height: r.height }];
      // The answer names what was read (the whole node, as Photoshop names the whole layer): the result goes over it.
      this.send({ type: 'image', requestId: msg.requestId, nodeId: node.id, bytes: node.bitmap.png, mime: 'image/png', width: node.bitmap.width, height: node.bitmap.height, mask });
      return;
    }
    const bitmap = region ? await crop(node.bitmap, regionInBitmap(node, region)) : node.bitmap;
    this.send({ type: 'image', requestId: msg.requestId, nodeId: msg.nodeId, bytes: bitmap.png, mime: 'image/png', width: bitmap.width, height: bitmap.height });
  }

  private readVideo(msg: { type: 'read-video' } & UiToHost['read-video']): void {
    const { node } = this.deps.doc.resolve(msg.nodeId);
    if (!node.clip) throw new Error(`${node.name} is an image, not a video: select a video (Open… takes MP4, MOV and WebM).`);
    this.send({ type: 'video', requestId: msg.requestId, nodeId: node.id, bytes: node.clip.bytes, mime: node.clip.mime, width: node.width, height: node.height });
  }

  private async placeVideo(msg: { type: 'place-video' } & UiToHost['place-video']): Promise<void> {
    const { clip, poster } = await openClip(msg.bytes, msg.mime);
    if (poster.width !== msg.width || poster.height !== msg.height) {
      URL.revokeObjectURL(clip.url);
      throw new Error(`place-video says ${msg.width}×${msg.height} but the clip is ${poster.width}×${poster.height}.`);
    }
    const pluginData = { [META_KEY]: JSON.stringify(msg.meta) };
    // A clip chosen from a file in the UI has no source node: a free spot in view, as Figma places it in view.
    const placed = msg.sourceNodeId
      ? this.deps.doc.placeBeside(msg.sourceNodeId, msg.name, poster, pluginData, clip)
      : this.deps.doc.placeInView(msg.name, poster, pluginData, clip, this.deps.viewArea?.());
    this.placed(msg.requestId, placed.id, msg.name);
  }

  private async placeResult(msg: { type: 'place-result' } & UiToHost['place-result']): Promise<void> {
    const png = resultPng(msg);
    const size = pngSize(png);
    if (!size) throw new Error('place-result.png is not a PNG file: encode the result as PNG before placing it.');
    if (size.width > MAX_IMAGE_EDGE || size.height > MAX_IMAGE_EDGE) {
      throw new Error(
        `Image is too large: ${size.width}×${size.height} px, the host accepts at most ${MAX_IMAGE_EDGE} px per edge. Choose a smaller scale or select a smaller region.`,
      );
    }
    if (size.width !== msg.width || size.height !== msg.height) {
      throw new Error(`place-result says ${msg.width}×${msg.height} but its PNG is ${size.width}×${size.height}.`);
    }
    if (msg.mode !== 'beside' && msg.mode !== 'replace-fill') throw new Error(`Unknown place mode ${String(msg.mode)}: use 'beside' or 'replace-fill'.`);
    const doc = this.deps.doc;
    const result = await bitmapFromBytes(png);
    const pluginData = { [META_KEY]: JSON.stringify(msg.meta) };
    // A generated image has no source: like Figma, the host finds it a free spot.
    if (msg.sourceNodeId === '' || (msg.mode === 'beside' && !doc.node(msg.sourceNodeId) && doc.region?.id !== msg.sourceNodeId)) {
      const placed = msg.grid && doc.node(msg.grid.anchorNodeId) ? doc.placeInGrid(msg.grid.anchorNodeId, msg.grid.index, msg.grid.columns, msg.name, result, pluginData) : doc.placeNew(msg.name, result, pluginData);
      this.placed(msg.requestId, placed.id, msg.name);
      return;
    }
    const { node, region } = doc.resolve(msg.sourceNodeId);
    let placedId: string;
    if (msg.mode === 'beside') {
      placedId = doc.placeBeside(msg.sourceNodeId, msg.name, result, pluginData).id;
    } else {
      const bitmap = region ? await composite(node.bitmap, result, regionInBitmap(node, region)) : result;
      placedId = doc.replaceFill(node.id, bitmap, pluginData).id;
    }
    this.placed(msg.requestId, placedId, msg.name);
  }

  /** The Results list asks to see a result: selected and brought into view, as Figma's bridge does. */
  private showNode(nodeId: string): void {
    if (!this.deps.doc.node(nodeId)) {
      this.deps.toast('That result is no longer on the canvas: it was undone or deleted.');
      return;
    }
    this.deps.doc.select([nodeId]);
    this.deps.reveal?.(nodeId);
  }

  /**
   * After a result is in the document (a new node, which placing selected, or a replaced fill, which leaves the
   * selection as it was, as in Figma): bring it into view, then answer the UI.
   */
  private placed(requestId: string, nodeId: string, name: string): void {
    this.deps.reveal?.(nodeId);
    this.send({ type: 'placed', requestId, nodeId });
    this.deps.toast(`Placed “${name}”`);
  }
}
