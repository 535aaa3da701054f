// Issue 14 finding 3, in failures: a designer never reads an engineer's word. The engine's messages that already say
// what happened and what to do in plain words are shown as they are; one that carries a runtime's error (onnxruntime),
// a system code (ENOENT), a runtime's name (WASM), a tensor or a file hash gets a plain headline and advice for its
// code, and the message goes behind a closed "Details" with the code. The words (ui/error-words.ts), then the panel in
// real Chromium (fake host and engine; the engine fails a job with an onnxruntime message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasEngineWords, problemWords } from '../../ui/error-words.ts';
import { failNext, selectItems, withHarness } from './ui-harness/ui-page.ts';

const shots = process.env.UI_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'frontier-error-shots-')));

/** What onnxruntime-web throws when a model's run fails (its message as the engine passes it on). */
const ORT_ERROR = "failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Non-zero status code returned while running Conv node. Name:'/conv_first/Conv' Status Message: Invalid input shape: {1,3,0,64}";

test('plain messages (what happened, what to do) are shown as the engine wrote them', () => {
  for (const message of [
    'Cannot reach the model host at http://127.0.0.1:8740. Is the local server running? Start it with "npm start", or check the server URL in Settings.',
    'Upscale needs an image: select an image or a frame.',
    'ESRGAN thick upscales ×4; set Scale to ×4 or pick a ×2 model.',
    'The mask is empty: draw a shape over the part of the image to fill (or select it), then run Inpaint again.',
    'Figma did not accept the video (Video requires a paid plan). Figma adds video only in paid Professional, Organization or Education teams.',
    'The download of esrgan-thick-x4.onnx stopped at 1000 of 29099582 bytes. Check the connection and retry.',
    'Enter a prompt first.',
  ]) {
    assert.equal(hasEngineWords(message), false, message);
    assert.deepEqual(problemWords('download-failed', message), { headline: message });
  }
  assert.deepEqual(problemWords('cancelled', 'Cancelled — nothing was placed.'), { headline: 'Cancelled — nothing was placed.' });
});

test("an engineer's message gets a plain headline and advice for its code; the message and code go to the details", () => {
  const run = problemWords('run-failed', ORT_ERROR);
  assert.equal(run.headline, 'Frontier could not finish this run.');
  assert.match(run.advice ?? '', /^Run it again/);
  assert.deepEqual(run.details, { code: 'run-failed', raw: ORT_ERROR });

  const cases: [Parameters<typeof problemWords>[0], string, RegExp][] = [
    ['model-load-failed', 'onnxruntime-node could not load the model: Load model from /x.onnx failed: Protobuf parsing failed.', /could not be opened/],
    ['run-failed', "ENOENT: no such file or directory, open '/tmp/out/result.png'", /could not finish/],
    ['worker-crashed', 'The engine worker crashed (out of memory). Click Restart engine; if it happens again, try a smaller image or the WASM target.', /engine stopped/],
    ['hash-mismatch', 'The model file x.onnx is corrupt on the server at http://h: its sha256 does not match its card.', /damaged/],
    ['model-load-failed', 'ESRGAN thick exchanges FP16 tensors, which need the binary tensor data extension.', /could not be opened/],
    [undefined, 'TypeError: Cannot read properties of undefined (reading \'width\')\n    at run (worker.js:1:2)', /could not finish/],
  ];
  for (const [code, message, headline] of cases) {
    const words = problemWords(code, message);
    assert.match(words.headline, headline, message);
    assert.equal(hasEngineWords(`${words.headline} ${words.advice ?? ''}`), false, `${words.headline} ${words.advice}`);
    assert.equal(words.details?.raw, message);
  }
  // A batch names its item: the name stays with the plain headline, the engine's message goes to the details.
  const item = problemWords('run-failed', `“Astronaut”: ${ORT_ERROR}`);
  assert.equal(item.headline, '“Astronaut”: Frontier could not finish this run.');
  assert.equal(item.details?.raw, ORT_ERROR);
  // The status line, when the engine cannot start: what failed (it says what to do itself).
  assert.equal(problemWords('worker-crashed', 'no available backend found. ERR: [wasm] RuntimeError: abort', { starting: true }).headline, 'Frontier’s engine could not start.');
});

test('in the panel: an onnxruntime error shows a plain headline; the raw message only inside the closed Details', { timeout: 60_000 }, async () => {
  await withHarness({ height: 560 }, async (page, ui) => {
    await ui.getByTestId('status').getByText('Ready').waitFor({ timeout: 15_000 });
    await selectItems(page, ['1:2']);
    await failNext(page, { code: 'run-failed', message: ORT_ERROR });
    await ui.getByTestId('run').click();
    const panel = ui.getByTestId('error');
    await panel.waitFor({ timeout: 15_000 });
    assert.equal(await panel.getAttribute('data-tone'), 'error');
    assert.equal(await ui.getByTestId('error-headline').innerText(), 'Frontier could not finish this run.');
    assert.match(await ui.getByTestId('error-advice').innerText(), /^Run it again/);
    const shown = await panel.innerText(); // what is rendered: the closed details are not
    assert.doesNotMatch(shown, /OrtRun|onnxruntime|ERROR_CODE|tensor|shape|Conv|run-failed/i, shown);
    const toggle = panel.getByRole('button', { name: 'Details' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await ui.getByTestId('error-raw').isVisible(), false);
    assert.equal(await ui.getByTestId('error-raw').textContent(), ORT_ERROR, 'the message is kept whole, behind Details');
    await page.locator('#plugin').screenshot({ path: join(shots, 'error-plain-closed.png') });

    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await ui.getByTestId('error-raw').isVisible(), true);
    assert.match(await ui.getByTestId('error-details').innerText(), /Error code: run-failed/);
    await page.locator('#plugin').screenshot({ path: join(shots, 'error-plain-open.png') });
  });
});

test.after(() => console.log(`Error panel screenshots: ${shots}`));
