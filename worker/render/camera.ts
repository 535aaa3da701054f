// GRAM's camera in TypeScript (the ONNX graph takes world-space rays): a pinhole on the unit sphere looking at the
// origin, position (sinφ·cosθ, cosφ, sinφ·sinθ) for yaw θ and pitch φ, world up +y, pixel centres spanning [−1, 1]
// edge to edge (the fov is the angle between the first and last pixel column's centres), row 0 at the top. The
// convention is pinned by test/export/fixtures/gram-rays.json, written by models/export/gram.py's reference.

export interface Pose {
  /** θ, radians; π/2 looks at the face from the front. */
  yaw: number;
  /** φ, radians from the +y axis; π/2 is level. */
  pitch: number;
}

export interface Rays {
  /** [N·3] xyz per ray, row-major over the tile. */
  origins: Float32Array;
  directions: Float32Array;
  count: number;
}

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Vec3 = [number, number, number];

const normalize = (v: Vec3): Vec3 => {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
};
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** Pitch is kept off the poles, where the camera's left vector is undefined (as the reference clamps it). */
export const PITCH_LIMITS: [number, number] = [1e-5, Math.PI - 1e-5];

/** World-space rays of the pixels of `tile` (default: the whole size×size image) seen from `pose`. */
export function cameraRays(pose: Pose, fovDeg: number, size: number, tile: Tile = { x: 0, y: 0, width: size, height: size }): Rays {
  if (!(size >= 2)) throw new Error('The image must be at least 2 pixels wide (pixel centres span [−1, 1]).');
  const pitch = Math.min(PITCH_LIMITS[1], Math.max(PITCH_LIMITS[0], pose.pitch));
  const origin: Vec3 = [Math.sin(pitch) * Math.cos(pose.yaw), Math.cos(pitch), Math.sin(pitch) * Math.sin(pose.yaw)];
  const forward = normalize([-origin[0], -origin[1], -origin[2]]);
  const left = normalize(cross([0, 1, 0], forward));
  const up = normalize(cross(forward, left));
  const focal = 1 / Math.tan((fovDeg * Math.PI) / 360);
  const count = tile.width * tile.height;
  const origins = new Float32Array(count * 3);
  const directions = new Float32Array(count * 3);
  let i = 0;
  for (let row = tile.y; row < tile.y + tile.height; row++) {
    for (let col = tile.x; col < tile.x + tile.width; col++) {
      const [cx, cy, cz] = normalize([-1 + (2 * col) / (size - 1), 1 - (2 * row) / (size - 1), -focal]);
      for (let k = 0; k < 3; k++) {
        origins[i * 3 + k] = origin[k];
        directions[i * 3 + k] = -left[k] * cx + up[k] * cy - forward[k] * cz;
      }
      i++;
    }
  }
  return { origins, directions, count };
}
