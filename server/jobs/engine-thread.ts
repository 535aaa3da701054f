// The thread engine jobs run on. onnxruntime-node's session.run() blocks the thread it runs on, so the server's
// engine lives here, never on the HTTP thread: requests, events and cancels are answered while a diffusion loop
// runs. One Engine serves every job, so sessions are kept between jobs.
//
// Messages in:  { type: 'run', job: { id, task, model, params } } | { type: 'cancel', id } | { type: 'dispose' }
// Messages out: { type: 'progress', id, progress } | { type: 'done', id, images, imageMeta, params }
//               | { type: 'failed', id, message } | { type: 'disposed' }
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { readRegistry } from '../models.ts';
import type { ServerPaths } from '../paths.ts';
import type { EngineThreadIn, EngineThreadOut } from './engine-messages.ts';

const paths = (workerData as { paths: ServerPaths }).paths;
// The server's model folder and registry (shipped + converted on this machine); specs were checked against the
// servable models before a job reaches here.
const engine = new Engine({
  // A GPU server runs its engine jobs (a diffusion loop) on CUDA when onnxruntime-node's CUDA files are installed.
  ...createNodePlatform({ modelDir: paths.modelFiles, registryPath: paths.registry, cuda: true }),
  loadRegistry: () => readRegistry(paths),
});
const port = parentPort!;
const send = (msg: EngineThreadOut, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** A copy whose buffer can be transferred (the engine may keep the original). */
const ownBuffer = (data: Uint8Array) => new Uint8Array(data);

port.on('message', (msg: EngineThreadIn) => {
  if (msg.type === 'cancel') engine.cancel(msg.id);
  else if (msg.type === 'dispose') void engine.dispose().finally(() => send({ type: 'disposed' }));
  else if (msg.type === 'run') {
    const { id, task, model, params } = msg.job;
    engine
      .run({ id, task, model, params, target: 'node' }, (p) => {
        const preview = p.preview ? { ...p.preview, data: ownBuffer(p.preview.data) } : undefined;
        send({ type: 'progress', id, progress: { stage: p.stage, done: p.done, total: p.total, message: p.message, preview } }, preview ? [preview.data.buffer as ArrayBuffer] : []);
      })
      .then((out) => {
        const images = out.images.map((img) => ({ ...img, data: ownBuffer(img.data) }));
        send({ type: 'done', id, images, imageMeta: out.imageMeta, params: out.meta.params }, images.map((i) => i.data.buffer as ArrayBuffer));
      })
      .catch((err: unknown) => send({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }));
  }
});
