// Shared pieces of the OIP client tests: model cards matching the fake server's models.
import type { DType, ModelCard, TensorSpec } from '../../worker/models/card.ts';

export function card(id: string, inputs: TensorSpec[], outputs: TensorSpec[], scale = 1): ModelCard {
  return {
    id,
    task: 'upscale',
    label: `Test ${id}`,
    description: '',
    variant: 'tiny',
    files: [],
    io: { inputs, outputs, image: { layout: 'NHWC', range: [0, 255] }, scale, tile: { size: 64, overlap: 8 } },
    license: 'test',
    source: { checkpoint: 'test' },
    targets: ['server'],
  };
}

/** The card of the fake's nearest-neighbour ×2 models (input/output float32 NHWC). */
export function upscaleCard(id = 'double-up-x2'): ModelCard {
  return card(
    id,
    [{ name: 'input', dtype: 'float32', shape: [1, 'height', 'width', 3] }],
    [{ name: 'output', dtype: 'float32', shape: [1, 'height_x2', 'width_x2', 3] }],
    2,
  );
}

const ECHO: Record<string, DType> = { fp32: 'float32', fp16: 'float16', u8: 'uint8', i64: 'int64' };

export function echoCard(id = 'echo', kinds = ['fp32', 'fp16', 'u8', 'i64']): ModelCard {
  return card(
    id,
    kinds.map((k) => ({ name: `x_${k}`, dtype: ECHO[k], shape: [-1] })),
    kinds.map((k) => ({ name: `y_${k}`, dtype: ECHO[k], shape: [-1] })),
  );
}

/** A loadBytes that fails the test if a remote runtime ever asks for model bytes. */
export const noBytes = (): Promise<Uint8Array> => Promise.reject(new Error('the oip runtime must never load model bytes'));

/** Rejects with the error `promise` rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
