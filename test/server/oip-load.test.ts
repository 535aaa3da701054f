// A bounded load test: 32 concurrent clients for 10 s on esrgan-slim-x2 with a 16×16 input, zero errors. Latencies
// are printed, never asserted (speed is measured in benchmarks, not in timed tests); `npm run bench` reuses runLoad.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { percentile, runLoad } from '../../server/oip/load.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { MODEL, pixels, post } from './oip-util.ts';

let server: RunningServer;
before(async () => {
  server = await startServer({ port: 0 });
});
after(async () => {
  await server.close();
});

test('32 clients × 10 s on esrgan-slim-x2 16×16: zero errors', { timeout: 60_000 }, async () => {
  const result = await runLoad({ url: server.url, clients: 32, seconds: 10, model: MODEL, size: 16 });
  console.log(
    `load: ${result.count} requests, ${result.errors} errors, ${result.throughput.toFixed(1)} req/s, ` +
      `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`,
  );
  assert.deepEqual(result.errorSamples, []);
  assert.equal(result.errors, 0);
  assert.ok(result.count >= 32, `every client completed at least one request (${result.count})`);
  assert.ok(result.p99 >= result.p50);
  assert.deepEqual(server.inferStats(), { ...server.inferStats(), admitted: 0, running: 0, waiting: 0 });
});

test('the load generator counts errors (an unknown model fails every request)', async () => {
  const result = await runLoad({ url: server.url, clients: 2, seconds: 0.3, model: 'no-such-model', size: 4 });
  assert.equal(result.count, 0);
  assert.ok(result.errors >= 2);
  assert.match(result.errorSamples[0], /^404 .*No model named no-such-model/);
});

test('percentile picks the nearest rank', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('the HTTP thread stays responsive while a long run is in progress (runs happen on inference threads)', { timeout: 60_000 }, async () => {
  const slow = 'esrgan-thick-x4';
  assert.equal((await fetch(`${server.url}/v2/models/${slow}`)).status, 200);
  const size = 128;
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, size, size, 3], datatype: 'FP32', data: Array.from(pixels(size * size * 3)) }], parameters: { binary_data_output: true } });
  const run = post(`${server.url}/v2/models/${slow}/infer`, body);
  let done = false;
  void run.then(() => (done = true));
  // Wait until the run is really on a thread, then ask for liveness while it runs.
  while (server.inferStats().running === 0) await new Promise((r) => setTimeout(r, 5));
  const live = await fetch(`${server.url}/v2/health/live`);
  assert.equal(live.status, 200);
  assert.equal(done, false, 'the health check was answered while the run was still going');
  assert.equal((await run).status, 200);
});
