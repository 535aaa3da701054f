// Entry of the UI bundle (plugin/build.ts inlines it and styles.css into dist/figma/ui.html).
import { render } from 'preact';
import './styles.css';
import { App } from './app.tsx';
import { EngineClient } from './engine-client.ts';
import { HostClient } from './host-client.ts';

const host = new HostClient();
const engine = new EngineClient();
window.addEventListener('pagehide', () => {
  engine.dispose();
  host.dispose();
});

const root = document.getElementById('app');
if (!root) throw new Error('ui.html has no <div id="app">: rebuild the plugin (npm run build).');
render(<App host={host} engine={engine} />, root);
