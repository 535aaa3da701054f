// The UI's transport inside Photoshop's panel <webview>: `window.uxpHost.postMessage` out, `message` events in.
// That bridge carries JSON only, so messages travel as frames of JSON text with bytes as base64
// (plugin/photoshop/wire.ts), reassembled here; duplicate deliveries (a frame seen on both `window` and
// `uxpHost`) are dropped by the receiver.
import type { UiMessage } from '../plugin/messages.ts';
import { FRAME_CHARS, WireReceiver, WireSender } from '../plugin/photoshop/wire.ts';
import type { HostTransport } from './host-client.ts';

export interface UxpHostObject {
  postMessage(message: unknown): void;
  addEventListener?(type: 'message', listener: (event: unknown) => void): void;
  removeEventListener?(type: 'message', listener: (event: unknown) => void): void;
}

type UxpWindow = Window & { uxpHost?: UxpHostObject };

/** Whether this page runs in a UXP webview with the message bridge enabled. */
export function hasUxpHost(win: Window = window): boolean {
  const host = (win as UxpWindow).uxpHost;
  return !!host && typeof host.postMessage === 'function';
}

export function uxpTransport(win: Window = window, frameChars = FRAME_CHARS): HostTransport {
  const host = (win as UxpWindow).uxpHost;
  if (!host || typeof host.postMessage !== 'function') {
    throw new Error('window.uxpHost is missing: this page must run in the Photoshop panel’s webview (manifest: webview.enableMessageBridge "localAndRemote").');
  }
  const sender = new WireSender('host', (frame) => host.postMessage(frame), frameChars);
  return {
    post: (msg: UiMessage) => sender.send(msg),
    listen: (handler) => {
      const receiver = new WireReceiver('ui', handler, { onProblem: (reason) => console.warn(`Frontier UI dropped a host message: ${reason}`) });
      const onEvent = (event: unknown) => receiver.push(event);
      // UXP documents window `message` events; some builds deliver on uxpHost itself. Listen on both.
      win.addEventListener('message', onEvent);
      host.addEventListener?.('message', onEvent);
      return () => {
        win.removeEventListener('message', onEvent);
        host.removeEventListener?.('message', onEvent);
      };
    },
  };
}
