// Entry of the UI bundle (plugin/build.ts inlines it and styles.css into dist/figma/ui.html).
import { render } from 'preact';
import './styles.css';
import { App } from './app.tsx';
import { EngineClient } from './engine-client.ts';
import { HostClient } from './host-client.ts';
import { hasUxpHost, uxpTransport } from './uxp-transport.ts';

// Photoshop's panel webview has window.uxpHost (a JSON-only bridge); everywhere else, Figma's postMessage.
const host = new HostClient(hasUxpHost() ? uxpTransport() : undefined);
const engine = new EngineClient();
window.addEventListener('pagehide', () => {
  engine.dispose();
  host.dispose();
});

const root = document.getElementById('app');
if (!root) throw new Error('ui.html has no <div id="app">: rebuild the plugin (npm run build).');
render(<App host={host} engine={engine} />, root);
