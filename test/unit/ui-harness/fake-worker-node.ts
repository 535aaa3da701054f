// A fake Worker for Node unit tests of ui/engine-client.ts: a MessageChannel whose far end runs a fake
// EngineApi through Comlink.expose, plus a way to fire the `error` event a real Worker fires on a crash.
import * as Comlink from 'comlink';
import type { WorkerLike } from '../../../ui/engine-client.ts';

export type FakeApi = Record<string, (...args: never[]) => unknown>;

export class FakeWorker implements WorkerLike {
  terminated = false;
  private readonly channel = new MessageChannel();
  private readonly listeners = new Map<string, Set<(event: Event) => void>>();

  /** Callback proxies the fake engine received; a real worker's death closes them, so terminate() releases them. */
  private readonly received: Comlink.Remote<unknown>[] = [];

  constructor(api: FakeApi) {
    const recording: FakeApi = {};
    for (const [name, fn] of Object.entries(api)) {
      recording[name] = (...args: never[]) => {
        for (const arg of args) if (typeof arg === 'function') this.received.push(arg as Comlink.Remote<unknown>);
        return fn(...args);
      };
    }
    Comlink.expose(recording, this.channel.port2 as unknown as Comlink.Endpoint);
    // Ports must not keep the test process alive.
    (this.channel.port1 as unknown as { unref?: () => void }).unref?.();
    (this.channel.port2 as unknown as { unref?: () => void }).unref?.();
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.terminated) return; // a terminated Worker drops messages silently, like the real one
    this.channel.port1.postMessage(message, transfer as never);
  }
  addEventListener(type: string, listener: (event: Event) => void): void {
    if (type === 'message') this.channel.port1.addEventListener('message', listener as never);
    else {
      if (!this.listeners.has(type)) this.listeners.set(type, new Set());
      this.listeners.get(type)!.add(listener);
    }
  }
  removeEventListener(type: string, listener: (event: Event) => void): void {
    if (type === 'message') this.channel.port1.removeEventListener('message', listener as never);
    else this.listeners.get(type)?.delete(listener);
  }
  start(): void {
    this.channel.port1.start();
  }
  terminate(): void {
    this.terminated = true;
    for (const remote of this.received) {
      try {
        remote[Comlink.releaseProxy]();
      } catch {
        // already released by the fake engine
      }
    }
    this.channel.port1.close();
    this.channel.port2.close();
  }
  /** Fires what a real Worker fires when its script throws or fails to load. */
  crash(message = 'Uncaught RangeError: out of memory'): void {
    const event = Object.assign(new Event('error'), { message });
    for (const listener of this.listeners.get('error') ?? []) listener(event);
  }
}
