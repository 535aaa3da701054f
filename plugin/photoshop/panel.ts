// UXP panel entry (bundled to dist/photoshop/panel.js, loaded by dist/photoshop/index.html). UXP's own engine has no
// Worker, WebGPU or dependable WebAssembly, so the UI and the inference worker run in a <webview> showing local
// content (plugin:/webview/index.html); this script is the host bridge between that webview and the document.
import type { PhotoshopModule, UxpModule } from './api.ts';
import { startPhotoshopBridge, type ThemeSource } from './bridge.ts';

/** UXP's module loader, reached through globalThis so bundlers and linters leave it alone. */
const uxpRequire = (globalThis as unknown as { require: (id: string) => unknown }).require;

/** Photoshop's UI theme ("darkest", "dark", "medium", "light", "lightest") as the UI's two modes, when UXP tells it. */
function themeSource(): ThemeSource | undefined {
  const theme = (document as unknown as { theme?: { getCurrent?(): string; onUpdated?: { addListener(fn: () => void): void } } }).theme;
  if (!theme?.getCurrent) return undefined;
  const read = () => (/light/i.test(theme.getCurrent?.() ?? '') ? 'light' : 'dark');
  return { current: read, onChange: (listener) => theme.onUpdated?.addListener(listener) };
}

function start(): void {
  const webview = document.getElementById('frontier-ui');
  if (!webview) throw new Error('index.html has no <webview id="frontier-ui">: rebuild the panel (npx tsx plugin/build-photoshop.ts).');
  startPhotoshopBridge({
    photoshop: uxpRequire('photoshop') as PhotoshopModule,
    uxp: uxpRequire('uxp') as UxpModule,
    storage: window.localStorage,
    webview: webview as unknown as Parameters<typeof startPhotoshopBridge>[0]['webview'],
    theme: themeSource(),
  });
}

start();
