// A running Figma bridge against the fake, with the UI side and the logs in reach of a test.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Log } from '../../plugin/figma/api.ts';
import { startBridge, type Bridge } from '../../plugin/figma/bridge.ts';
import { FakeFigma } from './figma.ts';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Session {
  fake: FakeFigma;
  bridge: Bridge;
  logs: LogLine[];
  /** Sends a UI→host message and waits until the bridge has handled it. */
  send(message: unknown): Promise<void>;
}

/** Shows the UI (as main.ts does) and starts the bridge on a fresh fake document. */
export function startSession(fake = new FakeFigma()): Session {
  const logs: LogLine[] = [];
  const log: Log = {
    info: (message) => logs.push({ level: 'info', message }),
    warn: (message) => logs.push({ level: 'warn', message }),
    error: (message) => logs.push({ level: 'error', message }),
  };
  fake.figma.showUI('<html></html>', { width: 320, height: 560, themeColors: true, title: 'Frontier' });
  const bridge = startBridge(fake.figma, { log });
  return { fake, bridge, logs, send: (message) => fake.ui.deliver(message) };
}

export function fixtureBytes(name: 'astronaut.png' | 'chelsea.png'): Uint8Array {
  const path = fileURLToPath(new URL(`../fixtures/images/${name}`, import.meta.url));
  return new Uint8Array(readFileSync(path));
}
