// The `oip` runtime when things go wrong: retries (Retry-After, the retry budget, never on 4xx), cancel, timeout,
// auth, unknown models, metadata that does not match the card, an unreachable server — and the token never leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOipRuntime, probeServer } from '../../worker/runtime/oip.ts';
import type { Tensor } from '../../worker/runtime/runtime.ts';
import { startFakeOipServer } from '../fakes/oip-server.ts';
import { card, closedPort, noBytes, rejection, upscaleCard } from './oip-client-helpers.ts';

const input: Tensor = { dtype: 'float32', dims: [1, 2, 2, 3], data: new Float32Array(12).fill(7) };

test('503 with Retry-After: the client waits as told, then succeeds', async () => {
  const server = await startFakeOipServer({ behaviour: { busyInfers: 2, retryAfterS: 1 } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url, retries: 3 }).createSession(upscaleCard(), noBytes);
    const out = await session.run({ input });
    assert.equal((out.output.data as Float32Array)[0], 14);
    const times = server.infers().map((r) => r.at);
    assert.equal(times.length, 3);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 950, `retry ${i} came after ${times[i] - times[i - 1]} ms, Retry-After said 1 s`);
  } finally {
    await server.close();
  }
});

test('503 without Retry-After backs off and stops after `retries` extra attempts', async () => {
  const server = await startFakeOipServer({ behaviour: { busyInfers: 100 } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url, retries: 2 }).createSession(upscaleCard(), noBytes);
    const err = await rejection(session.run({ input }));
    assert.equal(err.code, 'target-unavailable');
    assert.match(err.message, /busy/);
    assert.match(err.message, /too many requests in the queue/, 'the server\'s { error } is surfaced');
    const times = server.infers().map((r) => r.at);
    assert.equal(times.length, 3, '1 attempt + 2 retries');
    assert.ok(times[1] - times[0] >= 90, 'backoff waited before the first retry');
  } finally {
    await server.close();
  }
});

test('400 is never retried and its error message is surfaced', async () => {
  const server = await startFakeOipServer({ behaviour: { failInfers: { status: 400, error: "input 'input' has the wrong shape" } } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url, retries: 3 }).createSession(upscaleCard(), noBytes);
    const err = await rejection(session.run({ input }));
    assert.equal(err.code, 'run-failed');
    assert.match(err.message, /HTTP 400: input 'input' has the wrong shape/);
    assert.ok(err.message.includes(server.url));
    assert.equal(server.infers().length, 1);
    server.behaviour.failInfers = { status: 500, error: 'CUDA out of memory' };
    const err500 = await rejection(session.run({ input }));
    assert.equal(err500.code, 'run-failed');
    assert.match(err500.message, /CUDA out of memory/);
    assert.equal(server.infers().length, 2, 'a 500 after the server got the request is not retried');
  } finally {
    await server.close();
  }
});

test('cancel aborts a slow infer quickly and reports cancelled', async () => {
  const server = await startFakeOipServer({ behaviour: { inferDelayMs: 10_000 } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url }).createSession(upscaleCard(), noBytes);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const err = await rejection(session.run({ input }, { signal: controller.signal }));
    const elapsed = Date.now() - started;
    assert.equal(err.code, 'cancelled');
    assert.match(err.message, /Cancelled/);
    assert.ok(elapsed < 1000, `cancel took ${elapsed} ms`);
    assert.equal(server.infers().length, 1, 'a cancelled infer is not retried');
    // A signal aborted before the call: nothing useful is sent.
    const early = await rejection(session.run({ input }, { signal: AbortSignal.abort() }));
    assert.equal(early.code, 'cancelled');
  } finally {
    await server.close();
  }
});

test('cancel also ends the wait between retries', async () => {
  const server = await startFakeOipServer({ behaviour: { busyInfers: 100, retryAfterS: 30 } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url, retries: 5 }).createSession(upscaleCard(), noBytes);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const err = await rejection(session.run({ input }, { signal: controller.signal }));
    assert.equal(err.code, 'cancelled');
    assert.ok(Date.now() - started < 1500);
  } finally {
    await server.close();
  }
});

test('a per-call timeout reports run-failed "timed out"', async () => {
  const server = await startFakeOipServer({ behaviour: { inferDelayMs: 10_000 } });
  try {
    const session = await createOipRuntime({ baseUrl: server.url, timeoutMs: 300 }).createSession(upscaleCard(), noBytes);
    const started = Date.now();
    const err = await rejection(session.run({ input }));
    assert.equal(err.code, 'run-failed');
    assert.match(err.message, /timed out/);
    assert.ok(Date.now() - started < 2000);
  } finally {
    await server.close();
  }
});

test('401 says to enter the pairing code in Settings; the right code is sent as a bearer token', async () => {
  const token = 'correct-horse-battery-staple';
  const server = await startFakeOipServer({ behaviour: { token } });
  try {
    const missing = await rejection(createOipRuntime({ baseUrl: server.url }).createSession(upscaleCard(), noBytes));
    assert.equal(missing.code, 'target-unavailable');
    assert.match(missing.message, /asks for its pairing code \(HTTP 401\): enter it in Settings → Pairing code/);
    assert.ok(missing.message.includes(server.url));

    const wrong = await rejection(createOipRuntime({ baseUrl: server.url, token: 'not-it' }).createSession(upscaleCard(), noBytes));
    assert.equal(wrong.code, 'target-unavailable');
    assert.match(wrong.message, /did not accept the pairing code \(HTTP 401\): check it in Settings → Pairing code/);
    server.requests.length = 0;

    const session = await createOipRuntime({ baseUrl: server.url, token }).createSession(upscaleCard(), noBytes);
    await session.run({ input });
    const authed = server.requests.filter((r) => r.headers.authorization === `Bearer ${token}`);
    assert.equal(authed.length, 3, 'GET /v2, model metadata and infer all carry the token');

    const probe = await probeServer({ baseUrl: server.url });
    assert.equal(probe.ok, false);
    assert.match(probe.error ?? '', /pairing code/);
    assert.equal(probe.pairing, 'needed', 'the UI offers to pair');
    assert.equal(probe.pairingHint, 'missing or wrong bearer token', "the server's own words");
    assert.equal((await probeServer({ baseUrl: server.url, token: 'not-it' })).pairing, 'refused');
    assert.equal((await probeServer({ baseUrl: server.url, token })).pairing, undefined);
  } finally {
    await server.close();
  }
});

test('an unknown model: 404, and Triton\'s 400/503 "Request for unknown model", give model-not-found without retries', async () => {
  const server = await startFakeOipServer();
  try {
    for (const status of [404, 400, 503] as const) {
      server.behaviour.unknownModelStatus = status;
      const before = server.requests.length;
      const err = await rejection(createOipRuntime({ baseUrl: server.url, retries: 3 }).createSession(upscaleCard('esrgan-nope-x2'), noBytes));
      assert.equal(err.code, 'model-not-found', `status ${status}`);
      assert.match(err.message, new RegExp(`The server at ${server.url} has no model esrgan-nope-x2`));
      assert.match(err.message, /model repository/);
      assert.equal(server.requests.length - before, 2, `status ${status}: GET /v2 and one metadata GET, no retries`);
    }
  } finally {
    await server.close();
  }
});

test('metadata that does not match the card is a clear model-load-failed naming server, model and tensors', async () => {
  const server = await startFakeOipServer();
  try {
    const err = await rejection(createOipRuntime({ baseUrl: server.url }).createSession(upscaleCard('mismatched'), noBytes));
    assert.equal(err.code, 'model-load-failed');
    assert.ok(err.message.includes(server.url));
    assert.match(err.message, /model mismatched/);
    assert.match(err.message, /no input "input" \(FP32 \[1, height, width, 3\]\); it has "image"/);
    assert.match(err.message, /needs an input "image"/);

    const wrongDtype = card('double-up-x2', [{ name: 'input', dtype: 'uint8', shape: [1, -1, -1, 3] }], [{ name: 'output', dtype: 'float32', shape: [1, -1, -1, 3] }]);
    const e2 = await rejection(createOipRuntime({ baseUrl: server.url }).createSession(wrongDtype, noBytes));
    assert.match(e2.message, /input "input" is FP32 \[-1, -1, -1, 3\], expected UINT8/);

    const wrongRank = card('double-up-x2', [{ name: 'input', dtype: 'float32', shape: [-1, -1, 3] }], [{ name: 'output', dtype: 'float32', shape: [1, -1, -1, 3] }]);
    const e3 = await rejection(createOipRuntime({ baseUrl: server.url }).createSession(wrongRank, noBytes));
    assert.equal(e3.code, 'model-load-failed');

    const missingOutput = card('double-up-x2', [{ name: 'input', dtype: 'float32', shape: [1, -1, -1, 3] }], [{ name: 'sr', dtype: 'float32', shape: [1, -1, -1, 3] }]);
    const e4 = await rejection(createOipRuntime({ baseUrl: server.url }).createSession(missingOutput, noBytes));
    assert.match(e4.message, /no output "sr"/);
  } finally {
    await server.close();
  }
});

test('an unreachable server: target-unavailable "Cannot reach the server at …", after the allowed retries', async () => {
  const port = await closedPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = Date.now();
  let attempts = 0;
  const countingFetch: typeof fetch = (url, init) => {
    attempts++;
    return fetch(url, init);
  };
  const err = await rejection(createOipRuntime({ baseUrl, retries: 1, fetch: countingFetch }).createSession(upscaleCard(), noBytes));
  assert.equal(err.code, 'target-unavailable');
  assert.equal(attempts, 2, 'GET /v2 was tried once more after the connection was refused');
  assert.match(err.message, new RegExp(`^Cannot reach the server at ${baseUrl} \\(ECONNREFUSED\\)`));
  assert.ok(Date.now() - started < 5000);

  const probe = await probeServer({ baseUrl });
  assert.equal(probe.ok, false);
  assert.match(probe.error ?? '', /Cannot reach the server/);

  const bad = await probeServer({ baseUrl: 'not a url' });
  assert.equal(bad.ok, false);
  assert.match(bad.error ?? '', /is not a server URL/);
});

test('a URL that is not an OIP server root says so', async () => {
  const server = await startFakeOipServer();
  try {
    const err = await rejection(createOipRuntime({ baseUrl: `${server.url}/v2` }).createSession(upscaleCard(), noBytes));
    assert.equal(err.code, 'target-unavailable');
    assert.match(err.message, /GET \/v2 gave HTTP 404.*server root/);
  } finally {
    await server.close();
  }
});

test('the token never appears in any error message, even when a gateway echoes it back', async () => {
  const token = 'tok-5f2c9a1e-secret';
  const server = await startFakeOipServer({ behaviour: { token, echoAuthInErrors: true } });
  const messages: string[] = [];
  const collect = async (p: Promise<unknown>) => messages.push((await rejection(p)).message);
  try {
    const runtime = createOipRuntime({ baseUrl: server.url, token, timeoutMs: 400, retries: 1 });
    await collect(runtime.createSession(upscaleCard('no-such-model'), noBytes));
    await collect(runtime.createSession(upscaleCard('mismatched'), noBytes));
    const session = await runtime.createSession(upscaleCard(), noBytes);
    server.behaviour.failInfers = { status: 400, error: 'bad tensor' };
    await collect(session.run({ input }));
    server.behaviour.failInfers = { status: 500, error: 'crash' };
    await collect(session.run({ input }));
    server.behaviour.failInfers = null;
    server.behaviour.busyInfers = 10;
    await collect(session.run({ input }));
    server.behaviour.busyInfers = 0;
    server.behaviour.inferDelayMs = 5000;
    await collect(session.run({ input }));
    await collect(session.run({ input }, { signal: AbortSignal.timeout(50) }));
    server.behaviour.inferDelayMs = 0;
    // A wrong token echoed back by the gateway must not show either.
    const wrong = 'wrong-token-7d1e44';
    await collect(createOipRuntime({ baseUrl: server.url, token: wrong }).createSession(upscaleCard(), noBytes));
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    await collect(createOipRuntime({ baseUrl: unreachable, token, retries: 0 }).createSession(upscaleCard(), noBytes));
    const probe = await probeServer({ baseUrl: server.url, token: wrong });
    messages.push(probe.error ?? '');

    if (process.env.OIP_PRINT_MESSAGES) console.log(messages.join('\n'));
    assert.equal(messages.length, 10);
    assert.ok(messages.some((m) => m.includes('[token]')), 'the echoed token was redacted, so the echo did reach a message');
    for (const m of messages) {
      assert.ok(m.length > 0);
      assert.ok(!m.includes(token), `token leaked: ${m}`);
      assert.ok(!m.includes(wrong), `wrong token leaked: ${m}`);
    }
  } finally {
    await server.close();
  }
});
