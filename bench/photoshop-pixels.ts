// Bench: what carrying Photoshop's pixels raw saves (issue 14, structure). One 1024² natural photo (astronaut.png
// enlarged ×2, bicubic), both directions across the panel ⇄ webview bridge, as it was (PNG) and as it is (raw RGBA),
// interleaved round by round:
//   read   before: the panel encodes a PNG (its former hand codec, plugin/photoshop/png.ts at BEFORE_REV), the message
//                  crosses, the UI decodes it (in Chromium: createImageBitmap + getImageData, as codec-browser.ts does)
//          after:  the raw pixels cross
//   place  before: the UI encodes a PNG (in Chromium: OffscreenCanvas.convertToBlob), it crosses, the panel decodes it
//                  (the former hand codec)
//          after:  the raw pixels cross
// "Crosses" is the wire's own work, timed in Node: messageToText (base64 inside) and textToMessage, as both ends run
// them. The panel's codec runs in Node's V8 here, not in UXP's engine (also V8, with no tooling to time it outside
// Photoshop). Writes bench/results/photoshop-pixels.{json,md}.
//   npx tsx bench/photoshop-pixels.ts [--rounds 5]
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { messageToText, textToMessage } from '../plugin/photoshop/wire.ts';
import { parseCli } from '../server/cli-args.ts';
import { nodeCodec } from '../worker/image/codec-node.ts';
import { resizeBicubic } from '../worker/image/rgba.ts';
import type { RgbaImage } from '../worker/job.ts';
import { REPO_ROOT } from '../worker/platform-node.ts';
import { launchBenchBrowser } from './common/chromium.ts';
import { log } from './common/log.ts';
import { resultsJson, runMain, writeResults } from './common/results.ts';
import { median } from './common/stats.ts';

/** The last commit with the panel's PNG codec (the one before it was deleted). */
const BEFORE_REV = '2074e453c08d0387a2d8b57c5e82268f8e2c7a8c';

interface PanelCodec {
  encodePng(image: RgbaImage): Uint8Array;
  decodePng(bytes: Uint8Array): RgbaImage;
}

/** The former panel codec, from git, with its one import pointed at this checkout. */
async function formerPanelCodec(dir: string): Promise<PanelCodec> {
  const source = execFileSync('git', ['show', `${BEFORE_REV}:plugin/photoshop/png.ts`], { cwd: REPO_ROOT, encoding: 'utf8' });
  const path = join(dir, 'former-png.ts');
  await writeFile(path, source.replace("'../../worker/image/crc32.ts'", `'${pathToFileURL(join(REPO_ROOT, 'worker', 'image', 'crc32.ts')).href}'`));
  return (await import(pathToFileURL(path).href)) as PanelCodec;
}

/** The UI's browser codec in a Chromium page, timed inside the page (the bytes are put there once, untimed). */
const PAGE_CODEC = `
window.bench = {
  async decode(bytes) {
    const t0 = performance.now();
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    return { ms: performance.now() - t0, bytes: data.length };
  },
  async encode(width, height, rgba) {
    const t0 = performance.now();
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength), width, height), 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const png = new Uint8Array(await blob.arrayBuffer());
    return { ms: performance.now() - t0, png };
  },
};`;

interface Round {
  readBefore: { panelEncodeMs: number; wireMs: number; uiDecodeMs: number; chars: number };
  readAfter: { wireMs: number; chars: number };
  placeBefore: { uiEncodeMs: number; wireMs: number; panelDecodeMs: number; chars: number };
  placeAfter: { wireMs: number; chars: number };
}

/** Time of the wire's own work on `msg` (to text, back to a message), and the text's length. */
function crossWire(msg: unknown): { ms: number; chars: number; back: unknown } {
  const t0 = performance.now();
  const text = messageToText(msg);
  const back = textToMessage(text);
  return { ms: performance.now() - t0, chars: text.length, back };
}

async function main(): Promise<void> {
  const { rounds: roundsArg } = parseCli('npx tsx bench/photoshop-pixels.ts [--rounds 5]', { rounds: { type: 'string' } }, process.argv.slice(2));
  const rounds = Number(roundsArg ?? 5);
  const started = performance.now();
  const photo = await nodeCodec.decode(new Uint8Array(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'images', 'astronaut.png'))));
  const image = resizeBicubic(photo, 1024, 1024);
  const dir = await mkdtemp(join(tmpdir(), 'frontier-bench-ps-'));
  const browser = await launchBenchBrowser();
  try {
    const panel = await formerPanelCodec(dir);
    const page = await browser.newPage();
    await page.evaluate(PAGE_CODEC);
    const meta = { task: 'upscale', model: 'esrgan-slim-x2', params: { scale: 2 }, target: 'wasm', version: '0.1.0' };
    const results: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      // Before and after alternate which goes first, so a neighbour's load falls on both alike.
      const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      const r = {} as Round;
      for (const which of order) {
        if (which === 'before') {
          // Read: the panel encodes, the message crosses, the UI decodes.
          let t0 = performance.now();
          const panelPng = panel.encodePng(image);
          const panelEncodeMs = performance.now() - t0;
          const read = crossWire({ type: 'image', requestId: 'r', nodeId: 'ps:1:2', bytes: panelPng, mime: 'image/png', width: 1024, height: 1024 });
          const sent = (read.back as { bytes: Uint8Array }).bytes;
          const decoded = await page.evaluate(([b64]) => (window as unknown as { bench: { decode(b: Uint8Array): Promise<{ ms: number; bytes: number }> } }).bench.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), [Buffer.from(sent).toString('base64')] as const);
          if (decoded.bytes !== image.data.length) throw new Error(`the UI decoded ${decoded.bytes} bytes`);
          r.readBefore = { panelEncodeMs, wireMs: read.ms, uiDecodeMs: decoded.ms, chars: read.chars };
          // Place: the UI encodes, the message crosses, the panel decodes.
          const encoded = await page.evaluate(([b64]) => (window as unknown as { bench: { encode(w: number, h: number, b: Uint8Array): Promise<{ ms: number; png: Uint8Array }> } }).bench.encode(1024, 1024, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))).then((e) => ({ ms: e.ms, png: btoa(Array.from(e.png, (b) => String.fromCharCode(b)).join('')) })), [Buffer.from(image.data).toString('base64')] as const);
          const uiPng = new Uint8Array(Buffer.from(encoded.png, 'base64'));
          const place = crossWire({ type: 'place-result', requestId: 'p', sourceNodeId: 'ps:1:2', png: uiPng, width: 1024, height: 1024, name: 'Upscale ×2', mode: 'beside', meta });
          t0 = performance.now();
          const back = panel.decodePng((place.back as { png: Uint8Array }).png);
          const panelDecodeMs = performance.now() - t0;
          if (back.data.length !== image.data.length) throw new Error('the panel decoded a different size');
          r.placeBefore = { uiEncodeMs: encoded.ms, wireMs: place.ms, panelDecodeMs, chars: place.chars };
        } else {
          const read = crossWire({ type: 'image', requestId: 'r', nodeId: 'ps:1:2', bytes: image.data, mime: 'rgba', width: 1024, height: 1024 });
          r.readAfter = { wireMs: read.ms, chars: read.chars };
          const place = crossWire({ type: 'place-result', requestId: 'p', sourceNodeId: 'ps:1:2', rgba: image.data, width: 1024, height: 1024, name: 'Upscale ×2', mode: 'beside', meta });
          r.placeAfter = { wireMs: place.ms, chars: place.chars };
        }
      }
      results.push(r);
      log(`round ${round + 1}/${rounds}: read ${(r.readBefore.panelEncodeMs + r.readBefore.wireMs + r.readBefore.uiDecodeMs).toFixed(0)} → ${r.readAfter.wireMs.toFixed(0)} ms, place ${(r.placeBefore.uiEncodeMs + r.placeBefore.wireMs + r.placeBefore.panelDecodeMs).toFixed(0)} → ${r.placeAfter.wireMs.toFixed(0)} ms`);
    }
    const med = (f: (r: Round) => number) => median(results.map(f));
    const summary = {
      image: 'astronaut.png enlarged to 1024×1024 (bicubic)', rawBytes: image.data.length, rounds,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
      read: {
        before: { panelEncodeMs: med((r) => r.readBefore.panelEncodeMs), wireMs: med((r) => r.readBefore.wireMs), uiDecodeMs: med((r) => r.readBefore.uiDecodeMs), totalMs: med((r) => r.readBefore.panelEncodeMs + r.readBefore.wireMs + r.readBefore.uiDecodeMs), chars: results[0].readBefore.chars },
        after: { wireMs: med((r) => r.readAfter.wireMs), chars: results[0].readAfter.chars },
      },
      place: {
        before: { uiEncodeMs: med((r) => r.placeBefore.uiEncodeMs), wireMs: med((r) => r.placeBefore.wireMs), panelDecodeMs: med((r) => r.placeBefore.panelDecodeMs), totalMs: med((r) => r.placeBefore.uiEncodeMs + r.placeBefore.wireMs + r.placeBefore.panelDecodeMs), chars: results[0].placeBefore.chars },
        after: { wireMs: med((r) => r.placeAfter.wireMs), chars: results[0].placeAfter.chars },
      },
      runs: results,
    };
    const s = summary;
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    const md = [
      '# Photoshop pixels across the panel ⇄ webview bridge: PNG (before) against raw RGBA (after)',
      '',
      `${s.image}, ${s.rawBytes.toLocaleString('en')} raw bytes; median of ${rounds} interleaved rounds. Machine: ${s.machine.cpus} cores (${s.machine.model}), shared with other helpers' jobs (load average ${s.machine.loadavg.map((l) => l.toFixed(1)).join(' / ')} at the end).`,
      'Panel codec: the former plugin/photoshop/png.ts in Node (V8); UI codec: Chromium (createImageBitmap / OffscreenCanvas); wire: messageToText + textToMessage in Node.',
      'The former panel encoder wrote an opaque image as RGB with stored (uncompressed) deflate blocks, so its read message was ¾ of raw RGBA’s; the UI’s canvas PNG (place) is compressed. Raw RGBA costs more bridge characters both ways and saves the codecs’ time, most of all the panel’s JavaScript inflate.',
      '',
      '| direction | before: encode | before: wire | before: decode | before: total | after: wire (total) | time ratio | bridge characters before → after |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
      `| read (panel → UI) | ${s.read.before.panelEncodeMs.toFixed(1)} ms (panel) | ${s.read.before.wireMs.toFixed(1)} ms | ${s.read.before.uiDecodeMs.toFixed(1)} ms (UI) | ${s.read.before.totalMs.toFixed(1)} ms | ${s.read.after.wireMs.toFixed(1)} ms | ${ratio(s.read.before.totalMs, s.read.after.wireMs)}× | ${s.read.before.chars.toLocaleString('en')} → ${s.read.after.chars.toLocaleString('en')} |`,
      `| place (UI → panel) | ${s.place.before.uiEncodeMs.toFixed(1)} ms (UI) | ${s.place.before.wireMs.toFixed(1)} ms | ${s.place.before.panelDecodeMs.toFixed(1)} ms (panel) | ${s.place.before.totalMs.toFixed(1)} ms | ${s.place.after.wireMs.toFixed(1)} ms | ${ratio(s.place.before.totalMs, s.place.after.wireMs)}× | ${s.place.before.chars.toLocaleString('en')} → ${s.place.after.chars.toLocaleString('en')} |`,
      '',
    ].join('\n');
    await writeResults('photoshop-pixels', resultsJson(summary), md, (performance.now() - started) / 1000);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

runMain(main);
