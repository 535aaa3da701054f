// An engine process: runs engine jobs (generate, text-to-image) for engine-runner.ts. onnxruntime-node's
// session.run() blocks the thread it runs on, and a native run cannot be stopped safely inside the server, so the
// engine lives in a child process: the server answers requests and events while a diffusion loop runs here, and a
// job that does not stop when cancelled is ended by killing this process. One Engine serves the jobs this process
// runs, one at a time, so its sessions are kept between jobs.
//
// It also runs the windows of TTVSR video jobs (ttvsr-window.ts): the whole recurrence of a window here, next to
// its sessions, with only frames crossing the channel.
//
// Started with the server's paths as JSON in argv[2].
// Messages in:  { type: 'run', job: { id, task, model, params } } | { type: 'cancel', id }
//               | { type: 'ttvsr-window', id, parts, frames, width, height, keepFrom, keepTo }
// Messages out: { type: 'progress', id, progress } | { type: 'done', id, images, imageMeta, params } | { type: 'failed', id, message }
//               | { type: 'window-frame', id, index, rgb } | { type: 'window-done', id }
import { Engine } from '../../worker/engine.ts';
import { createNodePlatform } from '../../worker/platform-node.ts';
import { readRegistry } from '../models.ts';
import type { ServerPaths } from '../paths.ts';
import type { EngineIn, EngineOut } from './engine-messages.ts';
import { TtvsrWindows } from './ttvsr-window.ts';

const paths = JSON.parse(process.argv[2]) as ServerPaths;
// The server's model folder and registry (shipped + converted on this machine); specs were checked against the
// servable models before a job reaches here.
const engine = new Engine({
  // A GPU server runs its engine jobs (a diffusion loop) on CUDA when onnxruntime-node's CUDA files are installed.
  ...createNodePlatform({ modelDir: paths.modelFiles, registryPath: paths.registry, cuda: true }),
  loadRegistry: () => readRegistry(paths),
});
const send = (msg: EngineOut) => {
  if (process.connected) process.send!(msg);
};

let ttvsr: TtvsrWindows | null = null;

process.on('message', (msg: EngineIn) => {
  if (msg.type === 'ttvsr-window') {
    void (ttvsr ??= new TtvsrWindows(paths.modelFiles)).run(msg, send);
    return;
  }
  if (msg.type === 'cancel') {
    engine.cancel(msg.id);
    return;
  }
  const { id, task, model, params } = msg.job;
  engine
    .run({ id, task, model, params, target: 'node' }, (p) => send({ type: 'progress', id, progress: { stage: p.stage, done: p.done, total: p.total, message: p.message, preview: p.preview } }))
    .then((out) => send({ type: 'done', id, images: out.images, imageMeta: out.imageMeta, params: out.meta.params }))
    .catch((err: unknown) => send({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }));
});
