// Masks for inpainting: how much of each pixel to fill (0 keep … 1 fill), their bounds and hole sizes, and the
// distance from a mask (for feathered edges). Plain arrays, no DOM.
import type { RgbaImage } from '../job.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fill amount per pixel: the brightest channel times alpha (white = fill; black or transparent = keep). */
export function maskAmounts(mask: RgbaImage): Float32Array {
  const out = new Float32Array(mask.width * mask.height);
  const d = mask.data;
  for (let i = 0; i < out.length; i++) {
    out[i] = (Math.max(d[i * 4], d[i * 4 + 1], d[i * 4 + 2]) * d[i * 4 + 3]) / (255 * 255);
  }
  return out;
}

/** Grey opaque RGBA of fill amounts (to resize a mask with the image resizers). */
export function amountsToRgba(amounts: Float32Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < amounts.length; i++) {
    const v = Math.round(amounts[i] * 255);
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = v;
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** Opaque grey RGBA from one level per pixel (a host's raw mask: 255 = fill), width × height levels. */
export function levelsToRgba(levels: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[j] = data[j + 1] = data[j + 2] = levels[i];
    data[j + 3] = 255;
  }
  return { width, height, data };
}

/** Smallest box holding every pixel with an amount above 0, or null for an empty mask. */
export function maskBounds(amounts: Float32Array, width: number, height: number): Box | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (amounts[y * width + x] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * The longest edge of the largest hole, in pixels, measured on `block`-px blocks (8-connected): scattered small
 * holes stay small even when their common bounds are large.
 */
export function largestHoleExtent(amounts: Float32Array, width: number, height: number, block = 8): number {
  const bw = Math.ceil(width / block);
  const bh = Math.ceil(height / block);
  const occupied = new Uint8Array(bw * bh);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (amounts[y * width + x] > 0) occupied[Math.floor(y / block) * bw + Math.floor(x / block)] = 1;
  }
  const seen = new Uint8Array(bw * bh);
  let largest = 0;
  const stack: number[] = [];
  for (let start = 0; start < occupied.length; start++) {
    if (!occupied[start] || seen[start]) continue;
    let minX = bw, minY = bh, maxX = -1, maxY = -1;
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const at = stack.pop()!;
      const bx = at % bw, by = Math.floor(at / bw);
      minX = Math.min(minX, bx); maxX = Math.max(maxX, bx);
      minY = Math.min(minY, by); maxY = Math.max(maxY, by);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = bx + dx, ny = by + dy;
          if (nx < 0 || ny < 0 || nx >= bw || ny >= bh) continue;
          const n = ny * bw + nx;
          if (occupied[n] && !seen[n]) {
            seen[n] = 1;
            stack.push(n);
          }
        }
      }
    }
    largest = Math.max(largest, (maxX - minX + 1) * block, (maxY - minY + 1) * block);
  }
  return Math.min(largest, Math.max(width, height));
}

/**
 * Distance in pixels from each pixel to the nearest pixel where `inside` is set (0 inside), by a two-pass 3-4
 * chamfer transform (within 8% of Euclidean): enough to ramp a feathered edge.
 */
export function distanceFrom(inside: Uint8Array, width: number, height: number): Float32Array {
  const far = 1e9;
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = inside[i] ? 0 : far;
  const relax = (i: number, j: number, cost: number) => {
    if (d[j] + cost < d[i]) d[i] = d[j] + cost;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (x > 0) relax(i, i - 1, 3);
      if (y > 0) {
        relax(i, i - width, 3);
        if (x > 0) relax(i, i - width - 1, 4);
        if (x < width - 1) relax(i, i - width + 1, 4);
      }
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      if (x < width - 1) relax(i, i + 1, 3);
      if (y < height - 1) {
        relax(i, i + width, 3);
        if (x < width - 1) relax(i, i + width + 1, 4);
        if (x > 0) relax(i, i + width - 1, 4);
      }
    }
  }
  for (let i = 0; i < d.length; i++) d[i] /= 3;
  return d;
}

/** Copies `src` into a width × height image, repeating its last row and column (context for tiles past the edge). */
export function padEdge(src: RgbaImage, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(y, src.height - 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(x, src.width - 1);
      const from = (sy * src.width + sx) * 4;
      data.set(src.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/**
 * One mask of width × height from pieces placed in its pixel coordinates (plugin/messages.ts MaskPart), combined by
 * maximum and clipped to the image. A piece with transparency counts by its alpha, normalised by its most opaque
 * pixel (a half-transparent shape drawn to see through still marks its whole area); an opaque piece by its grey
 * level. Returns grey opaque RGBA (white = fill).
 */
export function composeMask(width: number, height: number, parts: { image: RgbaImage; x: number; y: number }[]): RgbaImage {
  const amounts = new Float32Array(width * height);
  for (const { image, x: ox, y: oy } of parts) {
    const d = image.data;
    let maxAlpha = 0;
    for (let i = 3; i < d.length; i += 4) maxAlpha = Math.max(maxAlpha, d[i]);
    const byAlpha = maxAlpha < 255 || d.some((v, i) => i % 4 === 3 && v < 255);
    if (byAlpha && maxAlpha === 0) continue;
    for (let y = Math.max(0, -oy); y < image.height && oy + y < height; y++) {
      for (let x = Math.max(0, -ox); x < image.width && ox + x < width; x++) {
        const i = (y * image.width + x) * 4;
        const a = byAlpha ? d[i + 3] / maxAlpha : Math.max(d[i], d[i + 1], d[i + 2]) / 255;
        const at = (oy + y) * width + ox + x;
        if (a > amounts[at]) amounts[at] = a;
      }
    }
  }
  return amountsToRgba(amounts, width, height);
}
