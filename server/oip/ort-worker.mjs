// One inference thread of the server's pool. onnxruntime-node's session.run() blocks the thread it runs on, so
// runs happen here, never on the HTTP thread: the server stays responsive and request deadlines can fire.
// Plain JavaScript on purpose: worker threads do not inherit tsx's TypeScript loader.
//
// Messages in:  { type: 'load', id, bytes, executionProvider: 'auto' | 'cpu' | 'cuda', threads, cudaLibrary }
//               { type: 'run', seq, id, feeds: { [name]: { type, data, dims } }, fetches: string[] }
// Messages out: { type: 'loaded', id, inputs, outputs, executionProvider: { name, detail } } | { type: 'load-failed', id, message }
//               { type: 'result', seq, outputs: { [name]: { type, data, dims } } } | { type: 'run-failed', seq, message }
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** @type {Map<string, import('onnxruntime-node').InferenceSession>} */
const sessions = new Map();

function baseOptions(threads) {
  return {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    // Several sessions share the cores: idle threads must sleep, not spin.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

async function create(msg) {
  const options = baseOptions(msg.threads);
  if (msg.executionProvider === 'cpu') {
    return { session: await ort.InferenceSession.create(msg.bytes, { ...options, executionProviders: ['cpu'] }), executionProvider: null };
  }
  if (msg.executionProvider === 'cuda') {
    return { session: await ort.InferenceSession.create(msg.bytes, { ...options, executionProviders: ['cuda', 'cpu'] }), executionProvider: null };
  }
  // 'auto': the first load of this server decides, and says why.
  if (!msg.cudaLibrary || !existsSync(msg.cudaLibrary)) {
    const session = await ort.InferenceSession.create(msg.bytes, { ...options, executionProviders: ['cpu'] });
    const detail = "onnxruntime-node's CUDA libraries are not installed (npm install --onnxruntime-node-install=cuda12 adds them)";
    return { session, executionProvider: { name: 'cpu', detail } };
  }
  try {
    const session = await ort.InferenceSession.create(msg.bytes, { ...options, executionProviders: ['cuda'], logSeverityLevel: 3 });
    return { session, executionProvider: { name: 'cuda', detail: 'CUDA execution provider loaded' } };
  } catch (err) {
    const session = await ort.InferenceSession.create(msg.bytes, { ...options, executionProviders: ['cpu'] });
    const detail = `the CUDA execution provider failed to start (${String(err?.message ?? err).slice(0, 200)})`;
    return { session, executionProvider: { name: 'cpu', detail } };
  }
}

function metadata(list) {
  return list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

async function load(msg) {
  try {
    const { session, executionProvider } = await create(msg);
    sessions.get(msg.id)?.release();
    sessions.set(msg.id, session);
    parentPort.postMessage({
      type: 'loaded',
      id: msg.id,
      inputs: metadata(session.inputMetadata),
      outputs: metadata(session.outputMetadata),
      executionProvider,
    });
  } catch (err) {
    parentPort.postMessage({ type: 'load-failed', id: msg.id, message: String(err?.message ?? err) });
  }
}

async function run(msg) {
  const session = sessions.get(msg.id);
  if (!session) {
    parentPort.postMessage({ type: 'run-failed', seq: msg.seq, message: `model ${msg.id} is not loaded on this worker` });
    return;
  }
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = await session.run(feeds, msg.fetches);
    const outputs = {};
    const transfer = [];
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = { type: t.type, data: t.data, dims: [...t.dims] };
      if (t.data?.buffer instanceof ArrayBuffer) transfer.push(t.data.buffer);
    }
    try {
      parentPort.postMessage({ type: 'result', seq: msg.seq, outputs }, transfer);
    } catch {
      parentPort.postMessage({ type: 'result', seq: msg.seq, outputs }); // a buffer that cannot be detached: copy
    }
  } catch (err) {
    parentPort.postMessage({ type: 'run-failed', seq: msg.seq, message: String(err?.message ?? err) });
  }
}

// Messages are handled one at a time, in order: a run never overlaps a load on this thread.
let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(() => (msg.type === 'load' ? load(msg) : run(msg)));
});
