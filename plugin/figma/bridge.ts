// The Figma end of the host bridge: speaks plugin/messages.ts with the UI iframe over figma.ui.
import { MAX_IMAGE_EDGE, checkHostMessage, type HostMessage, type UiMessage } from '../messages.ts';
import { consoleLog, errorMessage, HostRequestError, type FigmaApi, type Log } from './api.ts';
import { placeResult } from './place.ts';
import { readImage } from './read.ts';
import { showNode } from './show.ts';
import { summarizeSelection } from './selection.ts';
import { handleUiMessage, redactingLog } from '../host-common.ts';
import { placeVideo, readVideo } from './video.ts';
import { loadSettings, sanitizeSettings, saveSettings } from './settings.ts';

/** figma.notify shows at most this many characters. */
export const NOTIFY_MAX_CHARS = 100;

export interface BridgeOptions {
  log?: Log;
}

export interface Bridge {
  /** Handles one message from the UI; resolves when its answer (if any) was posted. */
  handleMessage(raw: unknown): Promise<void>;
  /** Posts selection-changed for the current selection. */
  sendSelection(): Promise<void>;
}

/** Cuts to `max` UTF-16 units without splitting a surrogate pair. */
export function truncateForNotify(message: string, max = NOTIFY_MAX_CHARS): string {
  if (message.length <= max) return message;
  const cut = /[\uD800-\uDBFF]/.test(message[max - 1]) ? max - 1 : max;
  return message.slice(0, cut);
}

export function startBridge(figma: FigmaApi, options: BridgeOptions = {}): Bridge {
  // Tokens never leave through logs, notifications or failure answers.
  const { log, redact, remember } = redactingLog(options.log ?? consoleLog);

  const post = (msg: HostMessage) => {
    const problem = checkHostMessage(msg);
    if (problem) throw new Error(`Frontier built an invalid ${msg.type} message (${problem}).`);
    figma.ui.postMessage(msg);
  };

  let selectionVersion = 0;
  async function sendSelection(): Promise<void> {
    const version = ++selectionVersion;
    const selection = await summarizeSelection(figma);
    // A slower summary of an older selection must not overwrite a newer one.
    if (version === selectionVersion) post({ type: 'selection-changed', selection });
  }

  async function handle(msg: UiMessage): Promise<void> {
    switch (msg.type) {
      case 'ui-ready': {
        const settings = await loadSettings(figma);
        remember(settings);
        const selection = await summarizeSelection(figma);
        post({
          type: 'init',
          host: { name: 'figma', version: figma.apiVersion, maxImageEdge: MAX_IMAGE_EDGE, video: true, videoPlace: 'canvas' },
          settings,
          selection,
        });
        return;
      }
      case 'read-image':
        post(await readImage(figma, msg.requestId, msg.nodeId, msg.withMask === true));
        return;
      case 'place-result': {
        const nodeId = await placeResult(figma, msg);
        post({ type: 'placed', requestId: msg.requestId, nodeId });
        return;
      }
      case 'read-video':
        post(await readVideo(figma, msg.requestId, msg.nodeId));
        return;
      case 'place-video': {
        const nodeId = await placeVideo(figma, msg);
        post({ type: 'placed', requestId: msg.requestId, nodeId });
        return;
      }
      case 'notify':
        figma.notify(truncateForNotify(redact(msg.message)), { error: msg.error === true });
        return;
      case 'check-nodes': {
        const present: string[] = [];
        for (const id of msg.nodeIds.slice(0, 100)) {
          const node = typeof id === 'string' ? await figma.getNodeByIdAsync(id) : null;
          if (node && !node.removed) present.push(id);
        }
        post({ type: 'nodes', requestId: msg.requestId, present });
        return;
      }
      case 'show-node':
        await showNode(figma, msg.nodeId);
        return;
      case 'save-settings':
        remember(sanitizeSettings(msg.settings));
        await saveSettings(figma, msg.settings);
        return;
    }
  }

  const handleMessage = (raw: unknown): Promise<void> => handleUiMessage(raw, log, handle, reportFailure);

  function reportFailure(msg: UiMessage, err: unknown): void {
    const detail = errorMessage(err);
    if (msg.type === 'read-image' || msg.type === 'place-result' || msg.type === 'read-video' || msg.type === 'place-video' || msg.type === 'check-nodes') {
      const action = msg.type === 'read-image' ? 'read the layer' : msg.type === 'read-video' ? 'export the video' : msg.type === 'check-nodes' ? 'look for the result on the canvas' : 'place the result';
      const message = err instanceof HostRequestError ? detail : `Frontier could not ${action}: ${detail}`;
      log.warn(`${msg.type} ${msg.requestId} failed: ${message}`);
      post({ type: 'request-failed', requestId: msg.requestId, message: redact(message) });
    } else if (msg.type === 'save-settings') {
      log.error(`Saving settings failed: ${detail}`);
      figma.notify('Frontier could not save its settings. Try again; if it repeats, restart the plugin.', { error: true });
    } else {
      log.error(`${msg.type} failed: ${detail}`);
    }
  }

  // Figma ignores the handler's return value; returning the promise lets tests await the answer.
  figma.ui.on('message', (raw: unknown) => handleMessage(raw));
  figma.on('selectionchange', () => {
    sendSelection().catch((err: unknown) => log.error(`Reading the selection failed: ${errorMessage(err)}`));
  });

  return { handleMessage, sendSelection };
}
