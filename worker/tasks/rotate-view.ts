// Task `rotate-view`: a GRAM portrait seen from a chosen yaw and pitch, or a turntable of frames. The camera and the
// tiling happen here (the model renders world-space rays), so any size renders within WebGPU's buffer limits and a
// portrait made in an earlier session turns again from the latent its node stored.
import { FrontierError, type RgbaImage } from '../job.ts';
import { clampByte } from '../image/tensor.ts';
import { decodeLatent, encodeLatent, latentFromSeed } from '../latent.ts';
import { cameraRays, type Pose } from '../render/camera.ts';
import { firstGenerator, SEED_PARAM } from './generator.ts';
import type { ImageMeta, TaskContext, TaskDef } from './task.ts';

const DEG = Math.PI / 180;

export const rotateView: TaskDef = {
  id: 'rotate-view',
  label: 'Rotate view (3D)',
  description: 'A 3D-aware GRAM portrait from any angle. Select a portrait made here to turn it; otherwise a new one comes from the seed.',
  inputs: [],
  display: {
    progress: { verb: 'Rendering', unit: 'tile' },
    mainParams: ['yaw', 'pitch'],
    // The turntable's frames and sweep do not change the single view the preview shows.
    preview: { kind: 'view', params: ['seed', 'yaw', 'pitch', 'truncation'] },
  },
  optionalSource: 'a portrait made here by Rotate view',
  params: [
    SEED_PARAM,
    { name: 'yaw', label: 'Yaw (°)', type: 'number', default: 0, min: -40, max: 40, step: 1, help: 'Turn left (−) or right (+) from the front.' },
    { name: 'pitch', label: 'Pitch (°)', type: 'number', default: 0, min: -25, max: 25, step: 1, help: 'Look from below (−) or above (+).' },
    { name: 'frames', label: 'Turntable frames', type: 'integer', default: 1, min: 1, max: 36, help: 'More than 1: a row of views sweeping the yaw from −sweep to +sweep.' },
    { name: 'sweep', label: 'Sweep (°)', type: 'number', default: 30, min: 5, max: 40, step: 1 },
    // GRAM costs ≈1 TMAC per 256² frame (bench/results/generation.md: ≈5 min on WASM, ≈2.4 min on node): the live
    // preview renders 32 px (1/64 of that) while a slider moves.
    { name: 'size', label: 'Size', type: 'choice', default: 256, choices: [{ value: 32, label: '32' }, { value: 64, label: '64' }, { value: 128, label: '128' }, { value: 256, label: '256' }] },
    { name: 'truncation', label: 'Truncation', type: 'number', default: 0.7, min: 0.3, max: 1, step: 0.05 },
  ],
  defaultModel: (_params, available) => firstGenerator(available, 'gram-ffhq-256'),
  async run(ctx) {
    const card = ctx.model;
    const camera = card.io.camera;
    const latent = card.io.latent;
    if (!camera || !latent) throw new FrontierError('bad-input', `${card.label} is not a 3D-aware renderer (its card has no camera or latent).`);
    const source = ctx.job.sources?.find((s) => s.latent && s.model === card.id);
    const seed = source?.seed ?? Number(ctx.params.seed);
    const z = source?.latent ? decodeLatent(source.latent, latent.size, `“${source.task}” result`) : latentFromSeed(seed, latent.size);
    const frames = Number(ctx.params.frames);
    const sweep = Number(ctx.params.sweep);
    const poses = Array.from({ length: frames }, (_, i) => {
      const yawDeg = frames === 1 ? Number(ctx.params.yaw) : -sweep + (2 * sweep * i) / (frames - 1);
      return { yawDeg, pose: { yaw: camera.default.yaw + yawDeg * DEG, pitch: camera.default.pitch - Number(ctx.params.pitch) * DEG } };
    });
    const size = Number(ctx.params.size);
    const tile = Math.min(card.io.tile.size, size);
    const tilesPerFrame = Math.ceil(size / tile) ** 2;
    const images: RgbaImage[] = [];
    const imageMeta: ImageMeta[] = [];
    for (const [f, { yawDeg, pose }] of poses.entries()) {
      images.push(await renderView(ctx, z, pose, size, tile, (done) => ctx.progress({ stage: 'run', done: f * tilesPerFrame + done, total: frames * tilesPerFrame, message: frames > 1 ? `Frame ${f + 1} / ${frames}` : undefined })));
      imageMeta.push({ seed, latent: encodeLatent(z), params: { yaw: Number(yawDeg.toFixed(3)), frames: 1 } });
    }
    return { images, imageMeta };
  },
};

/** Renders one view tile by tile (tile² rays per call keeps every intermediate within WebGPU's buffer limits). */
async function renderView(ctx: TaskContext, z: Float32Array, pose: Pose, size: number, tile: number, progress: (done: number) => void): Promise<RgbaImage> {
  const card = ctx.model;
  const session = await ctx.session();
  const out: RgbaImage = { width: size, height: size, data: new Uint8Array(size * size * 4) };
  const [lo, hi] = card.io.image.range;
  const k = 255 / (hi - lo);
  let done = 0;
  for (let y = 0; y < size; y += tile) {
    for (let x = 0; x < size; x += tile) {
      ctx.throwIfCancelled();
      progress(done);
      const rect = { x, y, width: Math.min(tile, size - x), height: Math.min(tile, size - y) };
      const rays = cameraRays(pose, card.io.camera!.fovDeg, size, rect);
      const result = await session.run(
        {
          [card.io.latent!.name]: { dtype: 'float32', dims: [1, z.length], data: z },
          truncation: { dtype: 'float32', dims: [1], data: Float32Array.of(Number(ctx.params.truncation)) },
          ray_origins: { dtype: 'float32', dims: [1, rays.count, 3], data: rays.origins },
          ray_directions: { dtype: 'float32', dims: [1, rays.count, 3], data: rays.directions },
        },
        { signal: ctx.signal },
      );
      const rgb = result[card.io.outputs[0].name]?.data as Float32Array | undefined;
      if (!rgb || rgb.length !== rays.count * 3) throw new FrontierError('run-failed', `${card.label} returned no ${card.io.outputs[0].name} for ${rays.count} rays.`);
      for (let r = 0; r < rect.height; r++) {
        for (let c = 0; c < rect.width; c++) {
          const src = (r * rect.width + c) * 3;
          const dst = ((y + r) * size + x + c) * 4;
          for (let ch = 0; ch < 3; ch++) out.data[dst + ch] = clampByte((rgb[src + ch] - lo) * k);
          out.data[dst + 3] = 255;
        }
      }
      done++;
    }
  }
  progress(done);
  return out;
}
