// The UI's bridge to the host (Figma main thread, Photoshop panel, playground page). Requests carry a
// requestId and time out with a message naming what timed out, so nothing hangs silently. The transport is
// injectable: Figma's postMessage is the default; Photoshop's webview bridge and tests bring their own.
import { checkHostMessage } from '../plugin/messages.ts';
import type { HostToUi, HostMessage, PlaceRequest, UiMessage, UiToHost } from '../plugin/messages.ts';

export interface HostTransport {
  post(msg: UiMessage): void;
  /** Calls `handler` with each raw message from the host; returns a function that stops listening. */
  listen(handler: (msg: unknown) => void): () => void;
}

/** Figma's bridge: `parent.postMessage({ pluginMessage })` out, `message` events with `data.pluginMessage` in. */
export function figmaTransport(win: Window = window): HostTransport {
  return {
    post: (msg) => win.parent.postMessage({ pluginMessage: msg }, '*'),
    listen: (handler) => {
      const onMessage = (event: MessageEvent) => {
        const data: unknown = event.data;
        if (data && typeof data === 'object' && 'pluginMessage' in data) handler((data as { pluginMessage: unknown }).pluginMessage);
      };
      win.addEventListener('message', onMessage);
      return () => win.removeEventListener('message', onMessage);
    },
  };
}

export type HostEvent = 'init' | 'selection-changed' | 'theme';
type EventPayload<K extends HostEvent> = { type: K } & HostToUi[K];

export interface HostTimeouts {
  readImageMs: number;
  placeResultMs: number;
  /** Exporting an animated frame as MP4 takes as long as the animation and more. */
  readVideoMs: number;
  /** Placing a clip may wait on the designer: Photoshop asks where to save it. */
  placeVideoMs: number;
}

export class HostRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostRequestError';
  }
}

interface PendingRequest {
  expects: 'image' | 'video' | 'placed' | 'nodes';
  resolve(msg: HostMessage): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type PlaceVideoRequest = Omit<UiToHost['place-video'], 'requestId'>;
/** A UI→host message that expects an answer, less the request id `ask` gives it. */
type RequestWithoutId = { [K in keyof UiToHost]: 'requestId' extends keyof UiToHost[K] ? { type: K } & Omit<UiToHost[K], 'requestId'> : never }[keyof UiToHost];
const seconds = (ms: number) => Math.round(ms / 1000);

export class HostClient {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly handlers = new Map<HostEvent, Set<(msg: HostMessage) => void>>();
  private readonly stopListening: () => void;
  private readonly timeouts: HostTimeouts;
  private nextId = 1;
  /** Last valid message of each event type, so late subscribers still see `init`. */
  private readonly lastEvent = new Map<HostEvent, HostMessage>();

  constructor(
    private readonly transport: HostTransport = figmaTransport(),
    timeouts: Partial<HostTimeouts> = {},
  ) {
    this.timeouts = { readImageMs: 60_000, placeResultMs: 60_000, readVideoMs: 300_000, placeVideoMs: 600_000, ...timeouts };
    this.stopListening = transport.listen((raw) => this.receive(raw));
  }

  send(msg: UiMessage): void {
    this.transport.post(msg);
  }

  /** Subscribes to a host event; returns the unsubscribe function. */
  on<K extends HostEvent>(type: K, handler: (msg: EventPayload<K>) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as unknown as (msg: HostMessage) => void;
    set.add(h);
    return () => set.delete(h);
  }

  /** The last `type` event received, if any. */
  last<K extends HostEvent>(type: K): EventPayload<K> | undefined {
    return this.lastEvent.get(type) as EventPayload<K> | undefined;
  }

  /** Whether the host reads and places raw RGBA (HostInfo.pixels, known from init): then results go to it unencoded. */
  takesRawPixels(): boolean {
    return this.last('init')?.host.pixels === 'rgba';
  }

  /** Asks the host for an item's pixels (and its mask, for inpainting). `label` names the item in the timeout message. */
  readImage(nodeId: string, label = nodeId, opts: { withMask?: boolean } = {}): Promise<{ type: 'image' } & HostToUi['image']> {
    const ms = this.timeouts.readImageMs;
    return this.ask({ type: 'read-image', nodeId, ...(opts.withMask ? { withMask: true } : {}) }, 'image', ms,
      `The host did not send the pixels of “${label}” within ${seconds(ms)} s. Try again, or select a smaller item.`);
  }

  /** Asks the host to place a result; resolves with the new node's id. */
  placeResult(request: PlaceRequest): Promise<{ type: 'placed' } & HostToUi['placed']> {
    const ms = this.timeouts.placeResultMs;
    return this.ask({ type: 'place-result', ...request }, 'placed', ms,
      `The host did not confirm placing “${request.name}” within ${seconds(ms)} s. Check the canvas; try again with a smaller scale if nothing appeared.`);
  }

  /** Asks the host for an item's clip. */
  readVideo(nodeId: string, label = nodeId): Promise<{ type: 'video' } & HostToUi['video']> {
    const ms = this.timeouts.readVideoMs;
    return this.ask({ type: 'read-video', nodeId }, 'video', ms,
      `The host did not send the clip of “${label}” within ${seconds(ms)} s. Try a shorter animation or a smaller frame.`);
  }

  /** Asks the host to place a video result; resolves with the new node's id. */
  placeVideo(request: PlaceVideoRequest): Promise<{ type: 'placed' } & HostToUi['placed']> {
    const ms = this.timeouts.placeVideoMs;
    return this.ask({ type: 'place-video', ...request }, 'placed', ms,
      `The host did not confirm placing “${request.name}” within ${seconds(ms)} s. Check the canvas; the clip is kept in the plugin to download.`);
  }

  /** Which of `nodeIds` are still in the document (a result undone is gone). A host that does not answer within a few
   *  seconds (an older plugin) rejects: then nothing is known. */
  async checkNodes(nodeIds: string[]): Promise<string[]> {
    const answer = await this.ask({ type: 'check-nodes', nodeIds }, 'nodes', 5_000, 'The host did not say whether the result is still on the canvas.');
    return answer.present;
  }

  /** Asks the host to select a result and bring it into view (no answer: a gone node shows in the next check). */
  showNode(nodeId: string): void {
    this.send({ type: 'show-node', nodeId });
  }

  dispose(): void {
    this.stopListening();
    for (const [id, req] of this.pending) {
      clearTimeout(req.timer);
      req.reject(new HostRequestError('The plugin UI closed before the host answered.'));
      this.pending.delete(id);
    }
  }

  private newRequestId(): string {
    return `ui-${Date.now().toString(36)}-${this.nextId++}`;
  }

  /** Sends `message` under a new request id; resolves with the host's `expects` answer to it, or rejects with
   *  `timeoutMessage` when none comes within `timeoutMs` (or with the host's request-failed message). */
  private ask<K extends PendingRequest['expects']>(message: RequestWithoutId, expects: K, timeoutMs: number, timeoutMessage: string): Promise<{ type: K } & HostToUi[K]> {
    const requestId = this.newRequestId();
    const done = this.request(requestId, expects, timeoutMs, timeoutMessage);
    this.send({ ...message, requestId } as UiMessage);
    return done as Promise<unknown> as Promise<{ type: K } & HostToUi[K]>;
  }

  private request(requestId: string, expects: PendingRequest['expects'], timeoutMs: number, timeoutMessage: string): Promise<HostMessage> {
    return new Promise<HostMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new HostRequestError(timeoutMessage));
      }, timeoutMs);
      this.pending.set(requestId, { expects, resolve, reject, timer });
    });
  }

  private receive(raw: unknown): void {
    const problem = checkHostMessage(raw);
    if (problem) {
      // Only the reason is logged: messages can carry settings with a token.
      console.warn(`Frontier UI ignored a malformed host message: ${problem}`);
      return;
    }
    const msg = raw as HostMessage;
    switch (msg.type) {
      case 'image':
      case 'video':
      case 'placed':
      case 'nodes':
      case 'request-failed': {
        const req = this.pending.get(msg.requestId);
        if (!req) return; // answer to a request that already timed out
        this.pending.delete(msg.requestId);
        clearTimeout(req.timer);
        if (msg.type === 'request-failed') req.reject(new HostRequestError(msg.message));
        else if (msg.type !== req.expects) req.reject(new HostRequestError(`The host answered with “${msg.type}” where “${req.expects}” was expected. Update the plugin.`));
        else req.resolve(msg);
        return;
      }
      default:
        this.lastEvent.set(msg.type, msg);
        for (const handler of this.handlers.get(msg.type) ?? []) handler(msg);
    }
  }
}
