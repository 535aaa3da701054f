// One inference process of the server's pool (pool.ts). onnxruntime-node's session.run() blocks the thread it runs
// on and cannot be interrupted safely in-process; here it blocks only this process, which the server kills when a
// request's deadline passes or its client leaves. Plain JavaScript: a child process has no TypeScript loader.
//
// Messages in:  { type: 'load', id, bytes, externalData: [{ path, data }], executionProvider: 'auto' | 'cpu' | 'cuda', threads, cudaLibrary }
//               { type: 'run', seq, id, feeds: { [name]: { type, data, dims } }, fetches: string[] }
// Messages out: { type: 'loaded', id, inputs, outputs, executionProvider: { name, detail } } | { type: 'load-failed', id, message }
//               { type: 'result', seq, outputs: { [name]: { type, data, dims } } }
//               | { type: 'run-failed', seq, message, source: 'onnxruntime' | 'process' }
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { reply } from '../work-child.mjs';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from './session-options.mjs';

/** @type {Map<string, import('onnxruntime-node').InferenceSession>} */
const sessions = new Map();

async function create(msg) {
  // A graph that keeps its weights in files beside it gets them here, by the names it gives them (no paths to read).
  const options = { ...sessionOptions(msg.threads), ...(msg.externalData?.length ? { externalData: msg.externalData } : {}) };
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
    reply({ type: 'loaded', id: msg.id, inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata), executionProvider });
  } catch (err) {
    reply({ type: 'load-failed', id: msg.id, message: String(err?.message ?? err) });
  }
}

// A run that fails on its input is answered to the client; the server's log need not repeat it for every request.
const RUN_OPTIONS = { logSeverityLevel: 4 };

async function run(msg) {
  const session = sessions.get(msg.id);
  if (!session) {
    reply({ type: 'run-failed', seq: msg.seq, message: `model ${msg.id} is not loaded in this process`, source: 'process' });
    return;
  }
  let results;
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    results = await session.run(feeds, msg.fetches, RUN_OPTIONS);
  } catch (err) {
    reply({ type: 'run-failed', seq: msg.seq, message: String(err?.message ?? err), source: 'onnxruntime' });
    return;
  }
  const outputs = {};
  for (const [name, t] of Object.entries(results)) outputs[name] = { type: t.type, data: t.data, dims: [...t.dims] };
  reply({ type: 'result', seq: msg.seq, outputs });
}

// Messages are handled one at a time, in order: a run never overlaps a load in this process.
let queue = Promise.resolve();
process.on('message', (msg) => {
  queue = queue.then(() => (msg.type === 'load' ? load(msg) : run(msg)));
});
