// ffmpeg and ffprobe as child processes: the presence check (at job creation, with how to install them), probing a
// clip, a decoder that streams raw RGB frames out and an encoder that takes raw RGB frames in (H.264 MP4). Frames go
// through pipes one at a time, so memory stays bounded whatever the clip's length. What ffmpeg says about a file
// names it as the user knows it ("the uploaded clip"), never by its path on the server. The processes run in a
// process group of their own: a Ctrl-C in the server's terminal reaches the whole foreground group, and ffmpeg
// would die of it before the server could stop its job cleanly; the server stops them itself (SIGKILL).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

export interface VideoTools {
  /** ffmpeg executable: a name on PATH or a full path. */
  ffmpeg: string;
  ffprobe: string;
}

export const INSTALL_HINT =
  'Install ffmpeg (it includes ffprobe) on the server: Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; ' +
  'Windows: winget install ffmpeg. Then create the job again.';

/** A file path on the server and the words a message uses for it instead. */
export type FileNames = [path: string, name: string][];

/** `text` with every file path in `names` replaced by its name. */
function nameFiles(text: string, names: FileNames): string {
  let out = text;
  for (const [path, name] of names) if (path) out = out.split(path).join(name);
  return out;
}

/** What the processes print on stderr, bounded (errors only: they run with -v error), with files named. */
class StderrTail {
  private text = '';
  constructor(
    stream: Readable | null,
    private readonly names: FileNames,
  ) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      this.text = (this.text + chunk).slice(-2000);
    });
  }
  get value(): string {
    return nameFiles(this.text, this.names).trim();
  }
}

function spawnTool(exe: string, args: string[], stdio: StdioOptions): ChildProcess {
  // windowsHide: no console window; a new process group only where Ctrl-C signals groups (not Windows).
  return spawn(exe, args, { stdio, detached: process.platform !== 'win32', windowsHide: true });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the executable could not be started (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    let settled = false;
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      resolve({ code: null, signal: null, spawnError: err });
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      resolve({ code, signal });
    });
  });
}

/** Runs a tool to completion and returns its stdout; throws with its stderr when it fails. */
async function runTool(exe: string, args: string[], what: string, names: FileNames): Promise<string> {
  const child = spawnTool(exe, args, ['ignore', 'pipe', 'pipe']);
  const out: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  const err = new StderrTail(child.stderr, names);
  const exit = await exitOf(child);
  if (exit.spawnError) throw missingTool(exe, exit.spawnError);
  if (exit.code !== 0) throw new Error(`${what} failed (${exe} exited with ${exit.code ?? exit.signal}): ${err.value || 'no message'}`);
  return Buffer.concat(out).toString('utf8');
}

export class ToolMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolMissingError';
  }
}

function missingTool(exe: string, err: NodeJS.ErrnoException): ToolMissingError {
  const why = err.code === 'ENOENT' ? 'was not found' : `could not be started (${err.code ?? err.message})`;
  return new ToolMissingError(`Video jobs need ffmpeg and ffprobe, but ${exe} ${why}. ${INSTALL_HINT}`);
}

/** Throws ToolMissingError (saying how to install them) unless both tools start. */
export async function checkTools(tools: VideoTools): Promise<void> {
  for (const exe of [tools.ffmpeg, tools.ffprobe]) {
    const child = spawnTool(exe, ['-version'], 'ignore');
    const exit = await exitOf(child);
    if (exit.spawnError) throw missingTool(exe, exit.spawnError);
    if (exit.code !== 0) throw new ToolMissingError(`Video jobs need ffmpeg and ffprobe, but "${exe} -version" exited with ${exit.code ?? exit.signal}. ${INSTALL_HINT}`);
  }
}

export interface ClipInfo {
  width: number;
  height: number;
  /** Frame rate as ffmpeg writes it ("25/1", "30000/1001"), and as a number. */
  fpsText: string;
  fps: number;
  /** Video frames (packets counted by ffprobe; the decoder's count is the truth). */
  frames: number;
  durationSeconds: number;
  /** The first audio stream's codec, if any. */
  audioCodec: string | null;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_read_packets?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}

function rate(text: string | undefined): number {
  if (!text) return 0;
  const [num, den] = text.split('/').map(Number);
  const value = den === undefined ? num : num / den;
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Size, frame rate, frame count and audio of a clip; `name` is how messages call it ("the uploaded clip"). Throws a
 * message a user can act on when it is no video.
 */
export async function probeClip(tools: VideoTools, file: string, name: string): Promise<ClipInfo> {
  let text: string;
  try {
    text = await runTool(tools.ffprobe, ['-v', 'error', '-count_packets', '-show_streams', '-show_format', '-of', 'json', file], `Reading ${name}`, [[file, name]]);
  } catch (err) {
    if (err instanceof ToolMissingError) throw err;
    // ffprobe's own words after "<file>: ", e.g. "Invalid data found when processing input".
    const said = (err as Error).message.replace(/^.*?\): /, '').split(`${name}: `).join('');
    throw new Error(`${name[0].toUpperCase()}${name.slice(1)} is not a video ffmpeg can read (${said}): upload a video clip (MP4, MOV, WebM).`);
  }
  const parsed = JSON.parse(text) as { streams?: ProbeStream[]; format?: { duration?: string } };
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video || !video.width || !video.height) throw new Error('The uploaded file has no video stream: upload a video clip (MP4, MOV, WebM).');
  const fpsText = rate(video.avg_frame_rate) > 0 ? video.avg_frame_rate! : (video.r_frame_rate ?? '0/0');
  const fps = rate(fpsText);
  if (!(fps > 0)) throw new Error('The clip has no usable frame rate: re-encode it with a constant frame rate (ffmpeg -i in.mov -r 30 out.mp4).');
  const durationSeconds = Number(video.duration ?? parsed.format?.duration ?? 0) || 0;
  const counted = Number(video.nb_read_packets ?? video.nb_frames ?? 0);
  const frames = counted > 0 ? counted : Math.max(1, Math.round(durationSeconds * fps));
  // The decoder applies the display rotation (autorotate), so a portrait phone clip decodes with width and height swapped.
  const rotation = Number(video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? video.tags?.rotate ?? 0);
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const audio = streams.find((s) => s.codec_type === 'audio');
  return {
    width: quarterTurn ? video.height : video.width,
    height: quarterTurn ? video.width : video.height,
    fpsText,
    fps,
    frames,
    durationSeconds: durationSeconds || frames / fps,
    audioCodec: audio?.codec_name ?? null,
  };
}

/** A running ffmpeg whose failure is reported with its own message. */
class Tool {
  readonly exit: Promise<Exit>;
  private readonly stderr: StderrTail;

  constructor(
    readonly child: ChildProcess,
    private readonly what: string,
    names: FileNames,
  ) {
    this.exit = exitOf(child);
    this.stderr = new StderrTail(child.stderr, names);
  }

  /** Resolves when ffmpeg exited 0; otherwise throws what it said. */
  async done(): Promise<void> {
    const exit = await this.exit;
    if (exit.spawnError) throw missingTool(String(this.child.spawnfile), exit.spawnError);
    if (exit.code !== 0) throw new Error(`${this.what} failed: ffmpeg exited with ${exit.code ?? exit.signal}${this.stderr.value ? `: ${this.stderr.value}` : ''}`);
  }

  /** Kills the process (if still running) and waits until it is gone, so its files can be deleted. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** Streams the clip's frames as packed RGB24 buffers of width*height*3 bytes, in display order. */
export class FrameDecoder {
  private readonly tool: Tool;
  readonly frameBytes: number;
  /** Resolves when ffmpeg has exited (its output may still wait in the pipe for frames()). */
  readonly exited: Promise<void>;

  constructor(tools: VideoTools, file: string, info: ClipInfo, name: string) {
    this.frameBytes = info.width * info.height * 3;
    const args = ['-v', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    this.tool = new Tool(spawnTool(tools.ffmpeg, args, ['ignore', 'pipe', 'pipe']), `Decoding ${name}`, [[file, name]]);
    // When ffmpeg exits, Node resumes (and so empties) every stdout nobody listens to, to let the child close: a
    // short clip decoded before frames() is first pulled (models still loading) would lose its frames. A 'readable'
    // listener marks the pipe as read without reading it, so backpressure still holds ffmpeg back.
    this.tool.child.stdout!.on('readable', () => {});
    this.exited = new Promise((resolve) => this.tool.child.once('exit', () => resolve()));
  }

  async *frames(): AsyncGenerator<Uint8Array> {
    const stdout = this.tool.child.stdout!;
    let pending: Buffer[] = [];
    let size = 0;
    // Async iteration pauses the pipe between pulls: ffmpeg blocks instead of filling memory.
    for await (const chunk of stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      size += chunk.length;
      while (size >= this.frameBytes) {
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, size);
        yield new Uint8Array(all.subarray(0, this.frameBytes));
        const rest = all.subarray(this.frameBytes);
        pending = rest.length ? [rest] : [];
        size = rest.length;
      }
    }
    await this.tool.done();
    if (size !== 0) throw new Error(`Decoding the clip failed: ${size} bytes left over after the last whole frame (the frame size changed mid-clip).`);
  }

  stop(): Promise<void> {
    return this.tool.stop();
  }
}

export interface EncodeOptions {
  width: number;
  height: number;
  fpsText: string;
  /** The source clip, to copy its audio from (null: no audio), and how messages name it. */
  audioFrom: { file: string; codec: string; name: string } | null;
  output: string;
}

// Codecs an MP4 file can carry unchanged; anything else is re-encoded to AAC.
const MP4_AUDIO = new Set(['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus']);

/** H.264 (yuv420p needs even sizes: an odd edge loses its last pixel). */
export function encodedSize(width: number, height: number): { width: number; height: number } {
  return { width: width - (width % 2), height: height - (height % 2) };
}

/** Takes RGB24 frames on stdin and writes an H.264 MP4 at the clip's frame rate, with the clip's audio. */
export class FrameEncoder {
  private readonly tool: Tool;
  private readonly frameBytes: number;

  constructor(tools: VideoTools, opts: EncodeOptions) {
    this.frameBytes = opts.width * opts.height * 3;
    const even = encodedSize(opts.width, opts.height);
    const args = ['-v', 'error', '-nostdin', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${opts.width}x${opts.height}`, '-framerate', opts.fpsText, '-i', 'pipe:0'];
    if (opts.audioFrom) args.push('-i', opts.audioFrom.file, '-map', '0:v:0', '-map', '1:a:0', '-c:a', MP4_AUDIO.has(opts.audioFrom.codec) ? 'copy' : 'aac');
    if (even.width !== opts.width || even.height !== opts.height) args.push('-vf', `crop=${even.width}:${even.height}:0:0`);
    args.push('-c:v', 'libx264', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', opts.output);
    const names: FileNames = [[opts.output, 'the result'], ...(opts.audioFrom ? [[opts.audioFrom.file, opts.audioFrom.name] as [string, string]] : [])];
    this.tool = new Tool(spawnTool(tools.ffmpeg, args, ['pipe', 'ignore', 'pipe']), 'Encoding the result', names);
    // A dead ffmpeg makes writes fail with EPIPE; the exit status carries the real reason.
    this.tool.child.stdin!.on('error', () => {});
  }

  /** Writes one frame, waiting while ffmpeg's pipe is full. */
  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.frameBytes) throw new Error(`Encoder got a frame of ${rgb.length} bytes, expected ${this.frameBytes}.`);
    const stdin = this.tool.child.stdin!;
    if (stdin.destroyed || this.tool.child.exitCode !== null) await this.stoppedReading();
    if (stdin.write(rgb)) return;
    const drained = once(stdin, 'drain').then(
      () => true,
      () => false, // EPIPE: ffmpeg is gone
    );
    if (!(await Promise.race([drained, this.tool.exit.then(() => false)]))) await this.stoppedReading();
  }

  private async stoppedReading(): Promise<never> {
    await this.tool.done(); // throws ffmpeg's own message when it failed
    throw new Error('Encoding the result failed: ffmpeg stopped reading frames.');
  }

  /** Closes the input and waits for the MP4 to be written. */
  async finish(): Promise<void> {
    this.tool.child.stdin!.end();
    await this.tool.done();
  }

  stop(): Promise<void> {
    return this.tool.stop();
  }
}
