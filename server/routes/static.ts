// Build output (dist/), onnxruntime-web's wasm and loaders, and the playground's sample photos.
import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { HttpError, resolveInside, sendFile, sendJson } from '../http-util.ts';
import type { Route } from './route.ts';
import { exact, under } from './route.ts';

const SAMPLE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

async function sampleNames(folder: string): Promise<string[]> {
  try {
    const names = await readdir(folder);
    return names.filter((n) => SAMPLE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  } catch {
    return [];
  }
}

export function staticRoutes(): Route[] {
  // The ORT allow-list is read once: it only changes when node_modules does.
  let ortFiles: Promise<Set<string>> | null = null;
  return [
    {
      methods: ['GET'],
      access: 'public',
      match: under('/dist/'),
      async handle({ req, res, params, paths }) {
        const path = resolveInside(paths.dist, params.rest);
        try {
          await sendFile(req, res, path, { cacheControl: 'no-cache' });
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) {
            throw new HttpError(404, `${err.message} (dist/ holds the build output: run \`npm run build\` first).`);
          }
          throw err;
        }
      },
    },
    {
      methods: ['GET'],
      access: 'public',
      match: under('/ort/'),
      async handle({ req, res, params, paths }) {
        ortFiles ??= readdir(paths.ortDist).then((names) => new Set(names.filter((n) => n.endsWith('.wasm') || n.endsWith('.mjs'))));
        const allowed = await ortFiles;
        let name: string;
        try {
          name = decodeURIComponent(params.rest);
        } catch {
          throw new HttpError(400, `Malformed percent-encoding in ${params.rest}.`);
        }
        if (!allowed.has(name)) {
          throw new HttpError(404, `/ort/ serves onnxruntime-web's .wasm and .mjs files only; ${name || '(empty name)'} is not one of them.`);
        }
        // onnxruntime starts its pthread workers from the .mjs; a worker inside a cross-origin-isolated page
        // (the playground with ?coi=1) loads only if its script is itself served with COEP.
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        // Versioned with the installed package, but a reinstall can change it: revalidate rather than pin.
        await sendFile(req, res, resolveInside(paths.ortDist, params.rest), { cacheControl: 'no-cache' });
      },
    },
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/samples'),
      async handle({ res, paths }) {
        sendJson(res, 200, { samples: await sampleNames(paths.samples) });
      },
    },
    {
      methods: ['GET'],
      access: 'public',
      match: under('/samples/'),
      async handle({ req, res, params, paths }) {
        const names = await sampleNames(paths.samples);
        const name = params.rest;
        if (!names.includes(name)) {
          throw new HttpError(404, `No sample named ${name}. Samples: ${names.join(', ') || 'none'}.`);
        }
        await sendFile(req, res, resolveInside(paths.samples, name), { cacheControl: 'no-cache' });
      },
    },
  ];
}
