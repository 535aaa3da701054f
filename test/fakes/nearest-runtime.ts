// A whole runtime in one file, as a new runtime would be written: its registry entry (name, place, resolve) and its
// sessions. It "runs" any NHWC image model as nearest-neighbour ×scale of the card, so a test can tell its pixels
// from a real model's, and counts the sessions it made. Used by test/unit/runtime-registry.test.ts.
import type { ResolvedTarget } from '../../worker/job.ts';
import type { ModelCard } from '../../worker/models/card.ts';
import { no, yes, type Answer, type RuntimeEntry } from '../../worker/runtime/registry.ts';
import type { Session, Tensor } from '../../worker/runtime/runtime.ts';

export interface NearestRuntime {
  entry: RuntimeEntry;
  /** Card ids it made sessions for. */
  sessions: string[];
  /** Whether it takes cards now (switch it to see `auto` pass it over). */
  takes: boolean;
}

export function nearestRuntime(target: ResolvedTarget): NearestRuntime {
  const state: NearestRuntime = {
    sessions: [],
    takes: true,
    entry: {
      name: 'nearest',
      target,
      resolve: (card: ModelCard): Answer =>
        state.takes ? yes(`nearest-neighbour ×${card.io.scale}`) : no('it is switched off for this test', 'the nearest runtime was told to decline'),
      create: () => ({
        name: 'nearest',
        async createSession(card: ModelCard): Promise<Session> {
          state.sessions.push(card.id);
          const input = card.io.inputs[0].name;
          const output = card.io.outputs[0].name;
          return {
            inputNames: [input],
            outputNames: [output],
            run: async (feeds) => ({ [output]: nearest(feeds[input], card.io.scale) }),
            dispose: async () => {},
          };
        },
      }),
    },
  };
  return state;
}

/** Nearest-neighbour ×s of an NHWC float32 tensor. */
function nearest(x: Tensor, s: number): Tensor {
  const [n, h, w, c] = x.dims;
  const src = x.data as Float32Array;
  const out = new Float32Array(n * h * s * w * s * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h * s; y++) {
      for (let xx = 0; xx < w * s; xx++) {
        for (let ch = 0; ch < c; ch++) out[((b * h * s + y) * w * s + xx) * c + ch] = src[((b * h + Math.floor(y / s)) * w + Math.floor(xx / s)) * c + ch];
      }
    }
  }
  return { dtype: 'float32', dims: [n, h * s, w * s, c], data: out };
}
