// Runs an ONNX model on onnxruntime-node with inputs read from raw little-endian files; export.py uses it to check
// exports (Debian's Python has no onnxruntime).
//
//   node models/export/ort_run.mjs JOB.json OUT_DIR
//
// JOB.json: {"model": "m.onnx", "threads": 2, "runs": [{"inputs": [{"name", "dtype", "shape", "file"}]}]}
// Writes OUT_DIR/out<run>.<name>.bin per output and OUT_DIR/result.json:
//   {"runs": [{"outputs": [{"name", "dtype", "shape", "file"}], "ms": 12.3}], "loadMs": 45.6}
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array,
  bool: Uint8Array,
};

function readTensor({ name, dtype, shape, file }) {
  const Array_ = ARRAYS[dtype];
  if (!Array_) throw new Error(`input ${name}: unsupported dtype ${dtype}`);
  const bytes = readFileSync(file);
  const copy = new Uint8Array(bytes.byteLength); // own, aligned buffer (Node may pool small reads at odd offsets)
  copy.set(bytes);
  const data = new Array_(copy.buffer);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`input ${name}: ${data.length} values in ${file}, shape needs ${count}`);
  return new ort.Tensor(dtype, data, shape);
}

const [jobPath, outDir] = process.argv.slice(2);
if (!jobPath || !outDir) {
  console.error('usage: node ort_run.mjs JOB.json OUT_DIR');
  process.exit(2);
}
const job = JSON.parse(readFileSync(jobPath, 'utf8'));
const started = performance.now();
const session = await ort.InferenceSession.create(job.model, {
  intraOpNumThreads: job.threads ?? 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const loadMs = performance.now() - started;
const runs = [];
for (const [index, run] of job.runs.entries()) {
  const feeds = Object.fromEntries(run.inputs.map((input) => [input.name, readTensor(input)]));
  const t0 = performance.now();
  const results = await session.run(feeds);
  const ms = performance.now() - t0;
  const outputs = [];
  for (const name of session.outputNames) {
    const tensor = results[name];
    const file = join(outDir, `out${index}.${name}.bin`);
    const data = tensor.data;
    writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    outputs.push({ name, dtype: tensor.type, shape: tensor.dims, file });
  }
  runs.push({ outputs, ms });
}
writeFileSync(join(outDir, 'result.json'), JSON.stringify({ runs, loadMs }));
await session.release();
