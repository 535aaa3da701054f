// A child process that does native work for the server (onnxruntime runs: the OIP inference pool, engine jobs).
// Native work cannot be stopped safely inside the server's own process: terminating a worker thread in the middle
// of onnxruntime-node's run() aborts the whole process. A child process can always be killed, and only it dies.
// Messages use the V8 serializer ('advanced'), so typed arrays cross as they are. The child side (work-child.mjs)
// ends itself when the server goes, even after a kill -9 (the IPC channel closes), and ignores a Ctrl-C sent to the
// terminal's process group: the server decides when its children stop, and kills them when it closes.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class WorkProcess<In, Out> {
  private readonly child: ChildProcess;
  private ended: Error | null = null;
  private killedByServer = false;
  private holds = 0;
  /** Resolves once the process has exited (or could not start), with a sentence saying how it ended. */
  readonly exited: Promise<Error>;

  /**
   * Starts `entry` (a plain .mjs file: a child does not inherit the parent's loaders). `name` says what the
   * process is in error messages ("the inference process").
   */
  constructor(
    entry: URL,
    private readonly name: string,
    onMessage: (msg: Out) => void,
    args: string[] = [],
  ) {
    this.child = fork(fileURLToPath(entry), args, {
      serialization: 'advanced',
      execArgv: [], // not the parent's (a test runner's or a loader's flags); the entry registers what it needs
      // Anything a child prints goes to the server's stderr: its stdout may be a protocol (a test runner, a bench).
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.child.on('message', (msg) => onMessage(msg as Out));
    this.exited = new Promise((resolve) => {
      const end = (why: string) => {
        if (this.ended) return;
        this.ended = new Error(`${this.name} ${why}`);
        resolve(this.ended);
      };
      this.child.on('exit', (code, signal) => {
        if (this.killedByServer) end('was stopped by the server');
        else end(signal ? `was ended by signal ${signal}` : `exited with code ${code}`);
      });
      this.child.on('error', (err) => {
        // No pid: it never started, and no 'exit' will follow. Otherwise (a failed send) it is of no further use.
        if (this.child.pid === undefined) end(`could not start (${err.message})`);
        else void this.kill();
      });
    });
    this.release(); // idle: never keeps the server's process alive
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why the process is gone, or null while it runs. */
  get endedWith(): Error | null {
    return this.ended;
  }

  /** Whether the process ended on a signal nobody in the server sent (the system's OOM killer sends SIGKILL). */
  get signalFromOutside(): NodeJS.Signals | null {
    return this.killedByServer ? null : this.child.signalCode;
  }

  /** Sends a message; throws why the process is gone if it is. */
  send(msg: In): void {
    if (this.ended) throw this.ended;
    this.child.send(msg as object, (err: Error | null) => {
      if (err) void this.kill();
    });
  }

  /** Keeps the server's event loop alive while work is in flight on this process (pair with release). */
  hold(): void {
    if (this.holds++ === 0) {
      this.child.ref();
      this.child.channel?.ref();
    }
  }

  release(): void {
    this.holds = Math.max(0, this.holds - 1);
    if (this.holds === 0) {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  /** Ends the process now (SIGKILL: even in the middle of a native call) and resolves once it has exited. */
  async kill(): Promise<void> {
    if (!this.ended) {
      this.killedByServer = true;
      this.hold(); // whoever waits for the exit keeps the event loop alive until it comes
      this.child.kill('SIGKILL');
      void this.exited.then(() => this.release());
    }
    await this.exited;
  }
}
