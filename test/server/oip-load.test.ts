// A bounded load test: 64 concurrent clients (the admission limit is the runs at once plus a queue of 64, so all of
// them are admitted) for 3 s on esrgan-slim-x2 with a 16×16 input and binary tensors: zero errors, and every admission
// released at the end. Latencies are printed, never asserted (speed is measured in benchmarks, not in timed tests);
// `npm run bench:server` reuses runLoad.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { percentile, runLoad } from '../../server/oip/load.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { TempRoot } from './helpers.ts';
import { bearer, MODEL, NEVER_ENDS, post, probeRoot, SPIN, spinRequest, waitFor } from './oip-util.ts';

let server: RunningServer;
before(async () => {
  server = await startServer({ port: 0 });
});
after(async () => {
  await server.close();
});

test('64 clients × 3 s on esrgan-slim-x2 16×16, binary tensors: zero errors', { timeout: 90_000 }, async () => {
  const result = await runLoad({ url: server.url, clients: 64, seconds: 3, model: MODEL, size: 16, token: server.token });
  console.log(
    `load: ${result.count} requests, ${result.errors} errors, ${result.throughput.toFixed(1)} req/s, ` +
      `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`,
  );
  assert.deepEqual(result.errorSamples, []);
  assert.equal(result.errors, 0);
  assert.ok(result.count >= 64, `every client completed at least one request (${result.count})`);
  assert.ok(result.p99 >= result.p50);
  assert.deepEqual(server.inferStats(), { ...server.inferStats(), admitted: 0, running: 0, waiting: 0 });
});

test('the load generator counts errors (an unknown model fails every request)', async () => {
  const result = await runLoad({ url: server.url, clients: 2, seconds: 0.3, model: 'no-such-model', size: 4, token: server.token });
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

test('the server stays responsive while a run is in progress (runs happen in inference processes)', { timeout: 60_000 }, async () => {
  let root: TempRoot | undefined;
  let probe: RunningServer | undefined;
  try {
    root = await probeRoot();
    probe = await startServer({ port: 0, root: root.root, maxConcurrentInfers: 2 });
    const client = new AbortController();
    // A run that never ends on its own: the health check below is answered while it computes, whatever the machine.
    const stuck = fetch(`${probe.url}/v2/models/${SPIN}/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(probe) }, body: spinRequest(NEVER_ENDS), signal: client.signal });
    stuck.catch(() => {});
    await waitFor(() => probe!.inferStats().running === 1);
    const live = await fetch(`${probe.url}/v2/health/live`);
    assert.equal(live.status, 200);
    const other = await post(`${probe.url}/v2/models/gather/infer`, JSON.stringify({ inputs: [{ name: 'index', shape: [1, 1], datatype: 'INT64', data: [2] }] }), bearer(probe));
    assert.equal(other.status, 200, 'another model runs beside it, in the second process');
    assert.equal(probe.inferStats().running, 1, 'the stuck run is still going');
    client.abort(); // its client leaves: the run is stopped
    await waitFor(() => probe!.inferStats().running === 0);
  } finally {
    await probe?.close();
    await root?.remove();
  }
});
