// Dropping the page cache of log segments that readers have most likely left behind (broker.pageCache=recent).
//
// Why: on a virtual machine whose balloon device reports free memory back to the host (virtio-balloon free page
// reporting, as on Firecracker and most clouds), a page the kernel takes from its free lists after it has been free
// for a moment must be faulted in from the host again. A growing log fills the page cache with such pages only, and
// writing new data measured two to three times slower there than writing into memory just freed; the extra CPU time
// of those faults, taken on 2 cores shared with the clients, showed up as produce latency spikes. Dropping the pages
// of old segments as soon as a newer segment is sealed puts them back on the free lists, and the next writes take
// them before they are handed back to the host. The newest sealed segment and the active one stay cached, so a
// consumer reading near the end of the log still reads from memory.
//
// How: posix_fadvise(POSIX_FADV_DONTNEED) over the whole file, which Node does not expose; `dd iflag=nocache
// count=0` (GNU coreutils) makes exactly that call without reading anything. The broker does not start a process per
// file (a spawn holds its event loop for milliseconds): one long-lived shell, started with the broker, reads file
// names on its standard input, runs dd for each and answers with a line per file. These are hints: a failure is
// logged once and otherwise ignored, and a missing dd or shell turns the dropping off.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Requests not yet answered beyond this are not sent (dropping is a hint, never a backlog). */
const MAX_PENDING = 256;
/** dd's exit status when the shell cannot find or run it. */
const NOT_FOUND = new Set([126, 127]);

export type PageCacheMode = 'recent' | 'os';

/** Reads one path per line; answers `<dd exit status> <its first line of errors>` per line. */
function helperScript(command: string): string {
  return `while IFS= read -r f; do e=$(${command} if="$f" iflag=nocache count=0 status=none 2>&1); s=$?; printf '%s %s\\n' "$s" "$(printf '%s' "$e" | head -n 1)"; done`;
}

export class PageCacheDropper {
  readonly #log: (line: string) => void;
  readonly #command: string;
  #enabled: boolean;
  #helper: ChildProcessByStdio<Writable, Readable, null> | null = null;
  /** Settles when the current helper has exited. */
  #helperGone: Promise<void> = Promise.resolve();
  /** Files sent to the helper and not yet answered, in order. */
  #inFlight: string[] = [];
  #idleWaiters: (() => void)[] = [];
  #warned = false;
  /** Files whose cache was dropped so far. */
  dropped = 0;

  constructor(options: { mode: PageCacheMode; log: (line: string) => void; command?: string }) {
    this.#log = options.log;
    this.#command = options.command ?? 'dd';
    this.#enabled = options.mode === 'recent' && process.platform === 'linux';
    // The helper starts now, while nothing waits: started at the first drop, the spawn held the event loop of a
    // broker busy with produce traffic for up to a few hundred milliseconds.
    if (this.#enabled) this.#start();
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Asks for the cached pages of `file` to be dropped, soon; returns at once. */
  drop(file: string): void {
    if (!this.#enabled || file.includes('\n') || this.#inFlight.length >= MAX_PENDING) return;
    const helper = this.#start();
    this.#inFlight.push(file);
    // Answers still to come keep the process alive; an idle helper does not.
    (helper.stdout as Socket).ref();
    helper.stdin.write(`${file}\n`);
  }

  /** Resolves once every request made so far has been answered (or the helper has gone). */
  idle(): Promise<void> {
    if (this.#inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the helper once it has answered what it was sent. */
  async close(): Promise<void> {
    this.#enabled = false;
    const helper = this.#helper;
    if (helper === null) return;
    const gone = this.#helperGone;
    await this.idle();
    helper.stdin.end();
    const timer = setTimeout(() => helper.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  #start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.#helper !== null) return this.#helper;
    // In a session of its own, so that a Ctrl-C meant for the broker does not kill it while the broker shuts down;
    // it ends when its standard input does, however the broker ends.
    const helper = spawn('sh', ['-c', helperScript(this.#command)], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.#helper = helper;
    this.#helperGone = new Promise((resolve) => {
      helper.once('close', () => resolve());
      helper.once('error', () => resolve()); // a shell that could not start
    });
    // An idle helper never keeps the broker's process alive.
    helper.unref();
    (helper.stdin as Socket).unref();
    (helper.stdout as Socket).unref();
    const lines = createInterface({ input: helper.stdout });
    lines.on('line', (line) => this.#answer(line));
    helper.stdin.on('error', () => undefined); // a helper that died is reported by 'close'
    helper.on('error', (err: NodeJS.ErrnoException) => {
      this.#stop(`cannot run sh (${err.code ?? err.message})`);
      this.#helper = null;
      this.#settleAll();
    });
    helper.on('close', (code) => {
      if (this.#enabled) this.#stop(`its helper shell exited (${code ?? 'killed'})`);
      this.#helper = null;
      this.#settleAll();
    });
    return helper;
  }

  #answer(line: string): void {
    const file = this.#inFlight.shift();
    const space = line.indexOf(' ');
    const status = Number(space < 0 ? line : line.slice(0, space));
    const message = space < 0 ? '' : line.slice(space + 1).trim();
    if (status === 0) this.dropped++;
    else if (NOT_FOUND.has(status)) this.#stop(`cannot run ${this.#command} (${message || `exit ${status}`})`);
    // A segment deleted by retention in the meantime is not a problem worth a line.
    else if (!this.#warned && !/No such file/i.test(message)) {
      this.#warned = true;
      this.#log(`page cache: ${this.#command} could not drop the cache of ${file ?? '?'} (exit ${status}: ${message || 'no message'}); further failures are not logged`);
    }
    if (this.#inFlight.length === 0) this.#settleAll();
  }

  #stop(why: string): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    this.#log(`page cache: ${why}, so old segments stay in the page cache; set broker.pageCache=os to leave it to the OS`);
    this.#helper?.stdin.end();
  }

  #settleAll(): void {
    if (this.#helper === null) this.#inFlight = [];
    if (this.#inFlight.length > 0) return;
    (this.#helper?.stdout as Socket | undefined)?.unref();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
