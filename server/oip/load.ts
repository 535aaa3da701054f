// A bounded load generator for the /infer endpoint: `clients` concurrent clients, each sending one request after
// another for `seconds`, with the binary tensor extension both ways. Used by the load test and the benchmark.

export interface LoadOptions {
  /** Server base URL, e.g. http://127.0.0.1:8740 */
  url: string;
  clients: number;
  seconds: number;
  /** Model id, e.g. esrgan-slim-x2 (input `input`, float32 [1,H,W,3]). */
  model: string;
  /** Input edge in pixels: the input is [1, size, size, 3]. */
  size: number;
  token?: string;
  /** Send and receive JSON tensors instead of binary (default false). */
  json?: boolean;
}

export interface LoadResult {
  /** Successful requests. */
  count: number;
  errors: number;
  /** Latency percentiles of the successful requests, in milliseconds. */
  p50: number;
  p99: number;
  /** Successful requests per second over the run. */
  throughput: number;
  /** The first few error messages (status + body), to say what went wrong. */
  errorSamples: string[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function requestFor(opts: LoadOptions): { body: Uint8Array | string; headers: Record<string, string> } {
  const shape = [1, opts.size, opts.size, 3];
  const pixels = new Float32Array(opts.size * opts.size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 256; // deterministic, image-like range
  const auth: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  if (opts.json) {
    const body = JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'FP32', data: Array.from(pixels) }] });
    return { body, headers: { ...auth, 'Content-Type': 'application/json' } };
  }
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', shape, datatype: 'FP32', parameters: { binary_data_size: pixels.byteLength } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(pixels.buffer)]);
  return {
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
  };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const endpoint = `${opts.url.replace(/\/$/, '')}/v2/models/${encodeURIComponent(opts.model)}/infer`;
  const { body, headers } = requestFor(opts);
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + opts.seconds * 1000;

  const client = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(endpoint, { method: 'POST', headers, body: body as BodyInit });
        const bytes = await res.arrayBuffer();
        if (!res.ok) throw new Error(`${res.status} ${Buffer.from(bytes).toString('utf8').slice(0, 200)}`);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    throughput: latencies.length / elapsed,
    errorSamples,
  };
}
