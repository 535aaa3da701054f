// A request or response body taken chunk by chunk from the moment its handler starts (async iteration would throw at
// a cut and drop what had arrived): chunks that arrived before the connection dropped are handed out before the error.
// Two pacing policies, by `highWater`:
//   0      the stream pauses at every chunk and resumes when the reader wants more (uploads: the client feels the
//          disk's pace);
//   > 0    it keeps reading until that many bytes wait (downloads: node drops what a paused socket still holds when
//          the host closes early, and every byte that arrived before a cut should count, so a resume starts there);
//          what has queued up is handed out in one piece (one disk write, not one per 64 KB socket read).
import type { IncomingMessage } from 'node:http';

export class StreamReader {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  private stopped: Error | null = null;
  private wake: (() => void) | null = null;

  /** `what`: the body's name in the error of a cut ("chunk", "file"). */
  constructor(
    private readonly stream: IncomingMessage,
    private readonly options: { highWater: number; what: string },
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
  }

  /** The bytes that arrived since the last call, or null at the end; throws after the last bytes before a cut. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.stopped) throw this.stopped;
      if (this.queue.length > 0) {
        const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queued);
        this.queue.length = 0;
        this.queued = 0;
        if (this.options.highWater > 0 && this.stream.isPaused()) this.stream.resume();
        return chunk;
      }
      if (this.ended) return null;
      if (this.failure) throw this.failure;
      this.stream.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Makes next() throw `err` now (a takeover, a cancel, a stalled body); a write in progress still completes. */
  interrupt(err: Error): void {
    this.stopped ??= err;
    this.notify();
  }

  /** Stops taking the body: what is left goes to an error answer's discard (or the cut connection). */
  detach(): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
    this.queue.length = 0;
    this.queued = 0;
  }

  private readonly onData = (chunk: Buffer) => {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > this.options.highWater) this.stream.pause();
    this.notify();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error) => {
    this.failure ??= err;
    this.notify();
  };
  private readonly onClose = () => {
    if (!this.stream.complete) this.failure ??= new Error(`the connection closed before the end of the ${this.options.what}`);
    this.notify();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
