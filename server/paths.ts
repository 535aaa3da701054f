// Where the server finds what it serves. Everything hangs off one root (the repository), so tests can point a
// server at a temporary tree; the playground page itself and onnxruntime-web's files come from this checkout.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = dirname(fileURLToPath(import.meta.url));

/** The repository root this server file lives in. */
export const REPO_ROOT = resolve(serverDir, '..');

export interface ServerPaths {
  root: string;
  /** Build output: dist/figma/ui.html, dist/playground/playground.js, … */
  dist: string;
  /** models/registry.json */
  registry: string;
  /** Cards of models converted on this machine (models/build/local-registry.json; may not exist). */
  localRegistry: string;
  /** Converted model files, content-addressed: models/build/files/<name>.onnx */
  modelFiles: string;
  /** Sample photos for the playground's picker. */
  samples: string;
  /** The playground page (server/playground/index.html). */
  playgroundHtml: string;
  /** onnxruntime-web's dist folder (wasm + .mjs loaders). */
  ortDist: string;
}

function findOrtDist(): string {
  // The package's exports map hides package.json; resolve its main entry (dist/ort.node.min.js) and take its folder.
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web'));
}

export function serverPaths(root = REPO_ROOT): ServerPaths {
  const r = resolve(root);
  return {
    root: r,
    dist: join(r, 'dist'),
    registry: join(r, 'models', 'registry.json'),
    localRegistry: join(r, 'models', 'build', 'local-registry.json'),
    modelFiles: join(r, 'models', 'build', 'files'),
    samples: join(r, 'test', 'fixtures', 'images'),
    playgroundHtml: join(serverDir, 'playground', 'index.html'),
    ortDist: findOrtDist(),
  };
}
