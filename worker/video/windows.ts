// Stateless frame windows: the clip is cut into windows of `size` frames to produce, each carrying `context` extra
// frames on either side (clamped at the clip's ends) that a temporal model looks at but whose outputs are dropped.
// No state crosses windows, so any replica (our server, Triton behind a gateway) can serve any window, and a
// failed window can simply be sent again. A per-frame model (ESRGAN) has context 0.

export interface FrameWindow<T> {
  /** Frames sent for this window: context before, the produced frames, context after. */
  frames: T[];
  /** frames[keepFrom, keepTo) are the frames this window produces. */
  keepFrom: number;
  keepTo: number;
  /** Clip index of the first produced frame. */
  first: number;
}

/** Groups a stream of frames into windows, holding at most size + 2 × context frames at a time. */
export async function* frameWindows<T>(frames: AsyncIterable<T>, size: number, context: number): AsyncGenerator<FrameWindow<T>> {
  if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(context) && context >= 0)) {
    throw new Error(`window size must be a whole number ≥ 1 and context ≥ 0 (got ${size}, ${context})`);
  }
  let buffer: T[] = [];
  let bufferStart = 0; // clip index of buffer[0]
  let next = 0; // clip index of the next frame to produce

  const take = (count: number): FrameWindow<T> => {
    const keepFrom = next - bufferStart;
    const end = Math.min(buffer.length, keepFrom + count + context);
    const window = { frames: buffer.slice(0, end), keepFrom, keepTo: keepFrom + count, first: next };
    next += count;
    const drop = Math.max(0, next - context - bufferStart);
    buffer = buffer.slice(drop);
    bufferStart += drop;
    return window;
  };

  for await (const frame of frames) {
    buffer.push(frame);
    if (bufferStart + buffer.length >= next + size + context) yield take(size);
  }
  while (bufferStart + buffer.length > next) yield take(Math.min(size, bufferStart + buffer.length - next));
}
