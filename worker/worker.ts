// Browser worker entry: exposes the engine over Comlink (worker/engine-api.ts).
import * as Comlink from 'comlink';
import { Engine } from './engine.ts';
import type { EngineApi } from './engine-api.ts';
import { createBrowserPlatform } from './platform-browser.ts';
import { FrontierError, toWireError } from './job.ts';

let engine: Engine | null = null;

function current(): Engine {
  if (!engine) throw new FrontierError('run-failed', 'The engine was used before init(): this is a bug in the UI.');
  return engine;
}

/** Every call goes through here so errors keep their code across Comlink (see toWireError). */
async function guard<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toWireError(err);
  }
}

const api: EngineApi = {
  init: (config) =>
    guard(async () => {
      // A new config (server URL, token) means new runtimes: free the old engine's sessions first.
      await engine?.dispose();
      engine = new Engine(createBrowserPlatform(config));
      return engine.capabilities();
    }),
  capabilities: () => guard(() => current().capabilities()),
  tasks: () => guard(() => current().tasks()),
  models: (options) => guard(() => current().models(options)),
  clearModels: (ids) => guard(() => current().clearModels(ids)),
  chooseTarget: (task, model, requested, params) => guard(() => current().chooseTarget(task, model, requested, params)),
  defaultModelFor: (task, params) => guard(() => current().defaultModelFor(task, params)),
  run: (job, onProgress) =>
    guard(async () => {
      const result = await current().run(job, (p) => void onProgress(p));
      return Comlink.transfer(result, result.images.map((i) => i.data.buffer as ArrayBuffer));
    }),
  warmUp: (request) => guard(() => current().warmUp(request)),
  cancel: (jobId) => guard(() => current().cancel(jobId)),
  testServer: (url, token, options) => guard(() => current().testServer(url, token, options)),
  decode: (bytes, mime) =>
    guard(async () => {
      const image = await current().decode(bytes, mime);
      return Comlink.transfer(image, [image.data.buffer as ArrayBuffer]);
    }),
  encodePng: (image) => guard(() => current().encodePng(image)),
};

Comlink.expose(api);
