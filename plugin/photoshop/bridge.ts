// The Photoshop end of the host bridge: speaks plugin/messages.ts with the UI in the panel's <webview>, over the
// JSON-only message bridge (wire.ts), and reads and writes the document through Photoshop's DOM and imaging API.
// Pixels cross raw (RAW_RGBA, base64 on the wire) both ways: the imaging API reads and writes raw pixels, so a PNG
// would cost an encode and a decode on each side for nothing.
import { MAX_IMAGE_EDGE, RAW_RGBA, checkHostMessage, type HostMessage, type Message, type SelectionSummary, type UiMessage, type UiToHost } from '../messages.ts';
import {
  consoleLog, errorMessage, findDocument, findLayer, HostRequestError,
  type KeyValueStorage, type Log, type PhotoshopModule, type PsDocument, type PsLayer, type UxpModule, type WebviewLike,
} from './api.ts';
import {
  documentProblem, intersect, marqueeBounds, MERGED_NAME, mergedReading, nodeIdOf, parseNodeId, readingFor, summarizeSelection, wholePlan,
} from './document.ts';
import { MetaStore } from './meta-store.ts';
import { handleUiMessage, redactingLog } from '../host-common.ts';
import { ModalQueue, placeTarget, readPixels, resultImage, writeLayer } from './pixels.ts';
import { showLayer } from './show.ts';
import { maskOutsideProblem, maskParts } from './selection-mask.ts';
import { loadSettings, sanitizeSettings, saveSettings } from './settings.ts';
import { FRAME_CHARS, WireReceiver, WireSender } from './wire.ts';
import { READ_VIDEO_REFUSED, saveAndOpenVideo } from './video.ts';

/** Photoshop events after which the selection summary may have changed. */
export const SELECTION_EVENTS = [
  'select', 'selectNoLayers', 'set', 'make', 'delete', 'open', 'close', 'newDocument', 'historyStateChanged',
  'convertMode', 'paste', 'crop', 'imageSize', 'canvasSize', 'transform', 'move', 'rasterizeLayer', 'mergeLayersNew',
];
/** Alerts are modal dialogs: keep them short. */
export const ALERT_MAX_CHARS = 300;

export interface ThemeSource {
  current(): 'light' | 'dark';
  /** Calls `listener` when Photoshop's UI theme changes. */
  onChange?(listener: () => void): void;
}

export interface PhotoshopBridgeDeps {
  photoshop: PhotoshopModule;
  uxp: UxpModule;
  /** The panel's localStorage. */
  storage: KeyValueStorage;
  webview: WebviewLike;
  log?: Log;
  theme?: ThemeSource;
  /** Photoshop fires bursts of events; the summary is sent once they settle. */
  selectionDebounceMs?: number;
  frameChars?: number;
}

export interface PhotoshopBridge {
  /** Handles one decoded UI→host message; resolves when its answer (if any) was posted. */
  handleMessage(raw: unknown): Promise<void>;
  /** Posts selection-changed when the summary differs from the last one sent. */
  sendSelection(): Promise<void>;
  /** Resolves when every message received so far has been handled. */
  idle(): Promise<void>;
  dispose(): Promise<void>;
}

export function startPhotoshopBridge(deps: PhotoshopBridgeDeps): PhotoshopBridge {
  const { photoshop: ps, uxp, storage, webview } = deps;
  // Tokens never leave through logs, notifications or failure answers.
  const { log, redact, remember } = redactingLog(deps.log ?? consoleLog);

  const modal = new ModalQueue(ps.core);
  const metaStore = new MetaStore(uxp, log);
  const metaFor = (doc: PsDocument, layerId: number) => metaStore.get(doc, layerId);

  const sender = new WireSender('ui', (frame) => webview.postMessage(frame), deps.frameChars ?? FRAME_CHARS);
  const post = (msg: HostMessage) => {
    const problem = checkHostMessage(msg);
    if (problem) throw new Error(`Frontier built an invalid ${msg.type} message (${problem}).`);
    sender.send(msg);
  };

  let uiReady = false;
  let lastSelection = '';
  let selectionVersion = 0;
  /** Read merged (Settings.readMerged): known from ui-ready on, changed by save-settings. */
  let readMerged = false;
  const summarize = () => summarizeSelection(ps.app, metaFor, { readMerged });
  async function sendSelection(): Promise<void> {
    if (!uiReady) return;
    const version = ++selectionVersion;
    const selection: SelectionSummary = await summarize();
    const key = JSON.stringify(selection);
    // A slower summary of an older selection must not overwrite a newer one; an unchanged one is not re-sent.
    if (version !== selectionVersion || key === lastSelection) return;
    lastSelection = key;
    post({ type: 'selection-changed', selection });
  }

  async function handle(msg: UiMessage): Promise<void> {
    switch (msg.type) {
      case 'ui-ready': {
        const settings = await loadSettings(storage, uxp.storage.secureStorage);
        remember(settings);
        readMerged = settings.readMerged === true;
        const selection = await summarize();
        uiReady = true;
        lastSelection = JSON.stringify(selection);
        post({ type: 'init', host: { name: 'photoshop', version: ps.app.version, maxImageEdge: MAX_IMAGE_EDGE, video: true, videoPlace: 'saved-file', pixels: 'rgba' }, settings, selection });
        if (deps.theme) post({ type: 'theme', mode: deps.theme.current() });
        return;
      }
      case 'read-image': {
        const ref = parseNodeId(msg.nodeId);
        if (!ref) throw new HostRequestError(`“${msg.nodeId}” is not a Photoshop layer. Select a layer and retry.`);
        const doc = findDocument(ps.app, ref.docId);
        if (!doc) throw new HostRequestError('The document of this layer is closed. Open it, select the layer again and retry.');
        const problem = documentProblem(doc);
        if (problem) throw new HostRequestError(problem);
        const layer = ref.layerId === null ? null : findLayer(doc, ref.layerId);
        if (ref.layerId !== null && !layer) throw new HostRequestError('The layer is no longer in the document (deleted or undone). Select it again and retry.');
        if (msg.withMask) return readWithMask(msg, doc, layer);
        const reading = layer ? readingFor(doc, layer, ref.region, undefined, true) : mergedReading(doc, ref.region, true);
        if ('problem' in reading) throw new HostRequestError(reading.problem);
        const { pixels } = await readPixels(ps, modal, reading.plan, layer?.name ?? MERGED_NAME);
        post({ type: 'image', requestId: msg.requestId, nodeId: msg.nodeId, bytes: pixels.data, mime: RAW_RGBA, width: pixels.width, height: pixels.height });
        return;
      }
      case 'place-result': {
        const image = resultImage(msg);
        const target = placeTarget(ps, msg.sourceNodeId, image.width, image.height);
        const layerId = await writeLayer(ps, modal, target, image, msg.name);
        await metaStore.set(target.doc, layerId, msg.meta);
        post({ type: 'placed', requestId: msg.requestId, nodeId: nodeIdOf({ docId: target.doc.id, layerId, region: null }) });
        void sendSelection().catch((err: unknown) => log.error(`Reading the selection failed: ${errorMessage(err)}`));
        return;
      }
      case 'check-nodes': {
        const present = msg.nodeIds.slice(0, 100).filter((id) => {
          const ref = typeof id === 'string' ? parseNodeId(id) : null;
          const doc = ref ? findDocument(ps.app, ref.docId) : null;
          return !!ref && !!doc && (ref.layerId === null || !!findLayer(doc, ref.layerId));
        });
        post({ type: 'nodes', requestId: msg.requestId, present });
        return;
      }
      case 'show-node':
        // A layer that is gone needs no alert (a modal dialog): the UI's next check-nodes marks the entry removed.
        if (!(await showLayer(ps, modal, msg.nodeId))) log.info(`show-node: ${msg.nodeId} is no longer in an open document.`);
        return;
      case 'read-video':
        throw new HostRequestError(READ_VIDEO_REFUSED);
      case 'place-video': {
        const doc = await saveAndOpenVideo(ps, uxp, modal, msg);
        // How it was made goes with the clip's layer, as with a placed image (best effort: the clip is already open).
        const layerId = doc.layers.length ? doc.layers[0].id : null;
        if (layerId !== null) await metaStore.set(doc, layerId, msg.meta).catch((err: unknown) => log.warn(`Keeping how the clip was made failed: ${errorMessage(err)}`));
        post({ type: 'placed', requestId: msg.requestId, nodeId: nodeIdOf({ docId: doc.id, layerId, region: null }) });
        return;
      }
      case 'notify':
        if (msg.error) await ps.app.showAlert(redact(msg.message).slice(0, ALERT_MAX_CHARS));
        else log.info(msg.message);
        return;
      case 'save-settings': {
        remember(sanitizeSettings(msg.settings));
        const saved = await saveSettings(storage, uxp.storage.secureStorage, msg.settings);
        if (saved.readMerged !== readMerged) {
          readMerged = saved.readMerged === true;
          // The items change between the active layers and the merged image; a failed summary is not a failed save.
          await sendSelection().catch((err: unknown) => log.error(`Reading the selection failed: ${errorMessage(err)}`));
        }
        return;
      }
    }
  }

  /**
   * Inpainting's read: the whole layer (clipped to the canvas) or the whole merged image, plus the marquee as mask
   * parts in that image's pixels. The answer's nodeId names exactly the region read (ps:doc:layer@bounds), so a
   * result placed with it as its source lands over those pixels, not at the marquee's corner.
   */
  async function readWithMask(msg: Message<UiToHost, 'read-image'>, doc: PsDocument, layer: PsLayer | null): Promise<void> {
    const plan = wholePlan(doc, layer);
    if ('problem' in plan) throw new HostRequestError(plan.problem);
    const label = layer?.name ?? MERGED_NAME;
    const selection = marqueeBounds(doc);
    if (selection && !intersect(selection, plan.bounds)) throw new HostRequestError(maskOutsideProblem(label));
    const read = await readPixels(ps, modal, plan, label, selection ? { selection } : {});
    if (selection && !read.mask) throw new HostRequestError(maskOutsideProblem(label));
    const mask = read.mask ? maskParts(read.mask) : undefined;
    post({
      type: 'image', requestId: msg.requestId, nodeId: nodeIdOf({ docId: doc.id, layerId: plan.layerId, region: plan.bounds }),
      bytes: read.pixels.data, mime: RAW_RGBA, width: read.pixels.width, height: read.pixels.height, ...(mask ? { mask } : {}),
    });
  }

  function reportFailure(msg: UiMessage, err: unknown): void {
    const detail = errorMessage(err);
    if (msg.type === 'read-image' || msg.type === 'place-result' || msg.type === 'read-video' || msg.type === 'place-video' || msg.type === 'check-nodes') {
      const action = msg.type === 'read-image' ? 'read the layer' : msg.type === 'check-nodes' ? 'look for the result' : 'place the result';
      const message = err instanceof HostRequestError ? detail : `Frontier could not ${action}: ${detail}`;
      log.warn(`${msg.type} ${msg.requestId} failed: ${message}`);
      post({ type: 'request-failed', requestId: msg.requestId, message: redact(message) });
    } else if (msg.type === 'show-node') {
      log.warn(`Showing ${msg.nodeId} failed: ${detail}`);
    } else if (msg.type === 'save-settings') {
      log.error(`Saving settings failed: ${detail}`);
      void ps.app.showAlert('Frontier could not save its settings. Try again; if it repeats, reload the plugin.').catch(() => undefined);
    } else {
      log.error(`${msg.type} failed: ${detail}`);
    }
  }

  const handleMessage = (raw: unknown): Promise<void> => handleUiMessage(raw, log, handle, reportFailure);

  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const receiver = new WireReceiver('host', (msg) => track(handleMessage(msg)), { onProblem: (reason) => log.warn(`Dropped a message from the UI: ${reason}.`) });
  const onWebviewMessage = (event: unknown) => receiver.push(event);
  webview.addEventListener('message', onWebviewMessage);

  // Photoshop fires several events per user action: summarize once they settle.
  const debounceMs = deps.selectionDebounceMs ?? 120;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const onPhotoshopEvent = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      track(sendSelection().catch((err: unknown) => log.error(`Reading the selection failed: ${errorMessage(err)}`)));
    }, debounceMs);
  };
  const listening = ps.action.addNotificationListener(SELECTION_EVENTS, onPhotoshopEvent).catch((err: unknown) => {
    log.warn(`Photoshop did not accept the selection listener (${errorMessage(err)}); the panel updates when it is used.`);
  });
  deps.theme?.onChange?.(() => {
    if (uiReady && deps.theme) post({ type: 'theme', mode: deps.theme.current() });
  });

  return {
    handleMessage,
    sendSelection,
    async idle() {
      while (inFlight.size > 0 || timer) {
        await Promise.all([...inFlight]);
        if (timer) await new Promise((resolve) => setTimeout(resolve, debounceMs));
      }
    },
    async dispose() {
      webview.removeEventListener('message', onWebviewMessage);
      if (timer) clearTimeout(timer);
      timer = null;
      await listening;
      await ps.action.removeNotificationListener(SELECTION_EVENTS, onPhotoshopEvent).catch(() => undefined);
    },
  };
}
