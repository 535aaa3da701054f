// How a tiled result agrees with one call of the same model on the whole picture: the seam measures that
// test/node/restore.test.ts bounds at 192 px and bench/restore-tiling.ts bounds at 512 px, in one place so that the
// test's bound and the bench's measure the same thing.
import { psnr } from '../../worker/image/rgba.ts';
import { planSpans } from '../../worker/image/tiling.ts';
import { blurPlane, gaussianKernel } from '../../worker/image/local-mean.ts';
import type { RgbaImage } from '../../worker/job.ts';

export interface Agreement {
  /** |tiled − one call| over RGB, 8-bit levels. */
  max: number;
  mean: number;
  p99: number;
  p999: number;
  psnr: number;
  /** Mean |G₈ ∗ d| and mean |d − G₈ ∗ d| (d = tiled − one call, G₈ a Gaussian of σ 8 px): tone vs detail. */
  lowFreqMean: number;
  highFreqMean: number;
  /** Mean |d| within 4 px of a tile-edge line ÷ mean |d| elsewhere (the test's "near-edge/elsewhere"). */
  borderRatio: number;
  /** Per tile-edge line (x lines, then y lines): the mean step of d across it ÷ the median step along that axis. */
  edgeSteps: { axis: 'x' | 'y'; at: number; ratio: number }[];
  maxEdgeStep: number;
}

/** Tiled vs one call at any square size: the seam measures and more. */
export function agreement(tiled: RgbaImage, whole: RgbaImage, tile: number, overlap: number): Agreement {
  const size = tiled.width;
  if (tiled.height !== size || whole.width !== size || whole.height !== size) throw new Error('agreement: square images of one size');
  const spans = planSpans(size, tile, overlap);
  const edges = [...new Set(spans.flatMap((s) => [s.start, s.end]).filter((e) => e > 0 && e < size))].sort((a, b) => a - b);
  const d = (x: number, y: number, c: number) => tiled.data[(y * size + x) * 4 + c] - whole.data[(y * size + x) * 4 + c];
  const hist = new Float64Array(256);
  let max = 0;
  let sum = 0;
  const border = { sum: 0, n: 0 };
  const elsewhere = { sum: 0, n: 0 };
  const nearEdge = (v: number) => edges.some((e) => Math.abs(v + 0.5 - e) <= 4);
  const planes = [0, 1, 2].map(() => new Float32Array(size * size));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let px = 0;
      for (let c = 0; c < 3; c++) {
        const v = d(x, y, c);
        planes[c][y * size + x] = v;
        const a = Math.abs(v);
        hist[a]++;
        max = Math.max(max, a);
        px += a;
      }
      sum += px;
      const bucket = nearEdge(x) || nearEdge(y) ? border : elsewhere;
      bucket.sum += px / 3;
      bucket.n++;
    }
  }
  const n = size * size * 3;
  const quantile = (q: number) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]) >= q * n) return v;
    return 255;
  };
  // Tone vs detail: blur d with a Gaussian of σ 8 px (mirrored borders).
  const taps = gaussianKernel(8);
  const scratch = new Float32Array(size * size);
  let low = 0;
  let high = 0;
  for (const p of planes) {
    const blurred = p.slice();
    blurPlane(blurred, scratch, size, size, taps);
    for (let i = 0; i < p.length; i++) {
      low += Math.abs(blurred[i]);
      high += Math.abs(p[i] - blurred[i]);
    }
  }
  const step = (axis: 'x' | 'y', k: number) => {
    let s = 0;
    for (let j = 0; j < size; j++) {
      for (let c = 0; c < 3; c++) s += Math.abs(axis === 'x' ? d(k, j, c) - d(k - 1, j, c) : d(j, k, c) - d(j, k - 1, c));
    }
    return s / (size * 3);
  };
  const median = (axis: 'x' | 'y') => Array.from({ length: size - 1 }, (_, i) => step(axis, i + 1)).sort((a, b) => a - b)[size >> 1];
  const medians = { x: median('x'), y: median('y') };
  const edgeSteps = (['x', 'y'] as const).flatMap((axis) => edges.map((at) => ({ axis, at, ratio: step(axis, at) / medians[axis] })));
  return {
    max,
    mean: sum / n,
    p99: quantile(0.99),
    p999: quantile(0.999),
    psnr: psnr(tiled, whole),
    lowFreqMean: low / n,
    highFreqMean: high / n,
    borderRatio: border.sum / border.n / (elsewhere.sum / elsewhere.n),
    edgeSteps,
    maxEdgeStep: Math.max(...edgeSteps.map((s) => s.ratio)),
  };
}
