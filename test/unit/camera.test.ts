// GRAM's camera in TypeScript against the Python reference's rays (test/export/fixtures/gram-rays.json, written by
// models/export/gram.py from the official convention), whole images and tiles.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cameraRays } from '../../worker/render/camera.ts';

interface Fixture {
  fovDeg: number;
  size: number;
  poses: { yaw: number; pitch: number; origins: number[][]; directions: number[][] }[];
}
const fixture = JSON.parse(readFileSync(new URL('../export/fixtures/gram-rays.json', import.meta.url), 'utf8')) as Fixture;

test('rays match the reference at every pixel of both fixture poses (float32 precision)', () => {
  assert.ok(fixture.poses.length >= 2);
  for (const pose of fixture.poses) {
    const rays = cameraRays(pose, fixture.fovDeg, fixture.size);
    assert.equal(rays.count, fixture.size * fixture.size);
    for (let i = 0; i < rays.count; i++) {
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(rays.origins[i * 3 + k] - pose.origins[i][k]) < 1e-6, `origin ${i}.${k}`);
        assert.ok(Math.abs(rays.directions[i * 3 + k] - pose.directions[i][k]) < 1e-6, `direction ${i}.${k} at yaw ${pose.yaw}`);
      }
    }
  }
});

test('a tile holds exactly the rays of those pixels of the whole image', () => {
  const pose = { yaw: Math.PI / 2 + 0.2, pitch: Math.PI / 2 - 0.1 };
  const whole = cameraRays(pose, 12, 16);
  const tile = cameraRays(pose, 12, 16, { x: 5, y: 9, width: 4, height: 3 });
  assert.equal(tile.count, 12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      const t = (r * 4 + c) * 3;
      const w = ((9 + r) * 16 + 5 + c) * 3;
      assert.deepEqual([...tile.directions.subarray(t, t + 3)], [...whole.directions.subarray(w, w + 3)]);
    }
  }
});

test('the default pose looks down −z from (0, 0, 1); the image centre ray points at the origin', () => {
  const rays = cameraRays({ yaw: Math.PI / 2, pitch: Math.PI / 2 }, 12, 3);
  const centre = 4 * 3;
  assert.ok(Math.abs(rays.origins[centre + 2] - 1) < 1e-6);
  assert.deepEqual([...rays.directions.subarray(centre, centre + 3)].map((v) => Math.round(v * 1e6) / 1e6 + 0), [0, 0, -1]);
  assert.throws(() => cameraRays({ yaw: 0, pitch: 1 }, 12, 1), /at least 2 pixels/);
});
