// Dropping the page cache of log segments that readers have most likely left behind (broker.pageCache=recent, not the
// default: on other virtual machines the drops made produce latency spike and sent consumers back to the disk; see
// docs/benchmarks.md, 2026-12-07).
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
//
// Paced: a file is dropped a piece at a time (8 MiB), from its end towards its start (`skip=<offset> count=0` drops
// from the offset to the end of the file), with a short pause between pieces. Dropping a whole 128 MiB segment in one
// call, with the 4 partitions of a steady load rolling within milliseconds of each other, freed half a gigabyte at
// once, and the broker's produce latency showed a spike at such moments. In 8 paired runs at 228,000 records/s the
// paced drops had the lower p99 in 6 (median 11.5 ms against 42 ms). When files queue up faster than the pauses
// allow, the pauses are skipped.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Files waiting beyond this are not queued (dropping is a hint, never a backlog). */
const MAX_PENDING = 256;
/** Bytes dropped per helper request. */
export const DROP_PIECE_BYTES = 8 * 1024 * 1024;
/** Pause between two pieces, unless more than PACED_QUEUE_MAX files are waiting. */
const DROP_PAUSE_MS = 10;
const PACED_QUEUE_MAX = 8;
/** dd's exit status when the shell cannot find or run it. */
const NOT_FOUND = new Set([126, 127]);

export type PageCacheMode = 'recent' | 'os';

/**
 * Reads `<offset> <path>` per line and drops the cached pages of that file from the offset to its end; answers
 * `<dd exit status> <its first line of errors>` per line.
 */
function helperScript(command: string): string {
  return `while IFS=' ' read -r o f; do e=$(${command} if="$f" iflag=nocache,skip_bytes skip="$o" count=0 status=none 2>&1); s=$?; printf '%s %s\\n' "$s" "$(printf '%s' "$e" | head -n 1)"; done`;
}

type Piece = { file: string; offset: number };

/** The pieces that drop `file` of `size` bytes, last piece first; the final one (offset 0) covers the whole file. */
function piecesOf(file: string, size: number, pieceBytes: number): Piece[] {
  const pieces: Piece[] = [];
  for (let offset = Math.floor((size - 1) / pieceBytes) * pieceBytes; offset > 0; offset -= pieceBytes) pieces.push({ file, offset });
  pieces.push({ file, offset: 0 });
  return pieces;
}

export type PageCacheDropperOptions = {
  mode: PageCacheMode;
  log: (line: string) => void;
  /** The dd to run (a test names one that does not exist). */
  command?: string;
  /** Pause between two pieces of a file (default DROP_PAUSE_MS); 0 drops as fast as the helper goes. */
  pauseMs?: number;
};

export class PageCacheDropper {
  readonly #log: (line: string) => void;
  readonly #command: string;
  readonly #pauseMs: number;
  #enabled: boolean;
  #helper: ChildProcessByStdio<Writable, Readable, null> | null = null;
  /** Settles when the current helper has exited. */
  #helperGone: Promise<void> = Promise.resolve();
  /** Files waiting for their turn, oldest first. */
  #files: string[] = [];
  /** The pieces of the file being dropped that are still to be sent, next first. */
  #pieces: Piece[] = [];
  /** The piece sent to the helper and not yet answered. */
  #inFlight: Piece | null = null;
  /** Set while a file's size is looked up or the pause before its next piece runs. */
  #waiting = false;
  #idleWaiters: (() => void)[] = [];
  #warned = false;
  /** Files whose cache was dropped so far. */
  dropped = 0;

  constructor(options: PageCacheDropperOptions) {
    this.#log = options.log;
    this.#command = options.command ?? 'dd';
    this.#pauseMs = options.pauseMs ?? DROP_PAUSE_MS;
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
    if (!this.#enabled || file.includes('\n') || this.#files.length >= MAX_PENDING) return;
    this.#files.push(file);
    this.#next();
  }

  /** Resolves once every file asked for so far has been dropped (or given up on, or the helper has gone). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the helper once it has answered the piece it is dropping; files still waiting are left as they are. */
  async close(): Promise<void> {
    this.#enabled = false;
    this.#files = [];
    this.#pieces = [];
    const helper = this.#helper;
    if (helper === null) return;
    const gone = this.#helperGone;
    await this.idle();
    helper.stdin.end();
    const timer = setTimeout(() => helper.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  #isIdle(): boolean {
    return this.#files.length === 0 && this.#pieces.length === 0 && this.#inFlight === null && !this.#waiting;
  }

  /** Sends the next piece, or looks up the size of the next file; does nothing while a piece or a pause is running. */
  #next(): void {
    if (this.#inFlight !== null || this.#waiting) return;
    if (!this.#enabled) {
      this.#settle();
      return;
    }
    const piece = this.#pieces.shift();
    if (piece !== undefined) {
      this.#send(piece);
      return;
    }
    const file = this.#files.shift();
    if (file === undefined) {
      this.#settle();
      return;
    }
    this.#waiting = true;
    // A file that is gone gets one whole-file piece, whose answer (no such file) is not worth a log line.
    void stat(file).then(
      (st) => this.#sized(file, st.size),
      () => this.#sized(file, 0),
    );
  }

  #sized(file: string, size: number): void {
    this.#waiting = false;
    this.#pieces = piecesOf(file, size, DROP_PIECE_BYTES);
    this.#next();
  }

  #send(piece: Piece): void {
    const helper = this.#start();
    this.#inFlight = piece;
    // An answer still to come keeps the process alive; an idle helper does not.
    (helper.stdout as Socket).ref();
    helper.stdin.write(`${piece.offset} ${piece.file}\n`);
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
      this.#settle();
    });
    helper.on('close', (code) => {
      if (this.#enabled) this.#stop(`its helper shell exited (${code ?? 'killed'})`);
      this.#helper = null;
      this.#settle();
    });
    return helper;
  }

  #answer(line: string): void {
    const piece = this.#inFlight;
    this.#inFlight = null;
    const space = line.indexOf(' ');
    const status = Number(space < 0 ? line : line.slice(0, space));
    const message = space < 0 ? '' : line.slice(space + 1).trim();
    if (status === 0) {
      if (piece?.offset === 0) this.dropped++;
    } else {
      // The rest of a file that could not be dropped is not tried.
      this.#pieces = [];
      if (NOT_FOUND.has(status)) this.#stop(`cannot run ${this.#command} (${message || `exit ${status}`})`);
      // A segment deleted by retention in the meantime is not a problem worth a line.
      else if (!this.#warned && !/No such file/i.test(message)) {
        this.#warned = true;
        this.#log(`page cache: ${this.#command} could not drop the cache of ${piece?.file ?? '?'} (exit ${status}: ${message || 'no message'}); further failures are not logged`);
      }
    }
    if (this.#pieces.length > 0 && this.#pauseMs > 0 && this.#files.length <= PACED_QUEUE_MAX) {
      this.#waiting = true;
      setTimeout(() => {
        this.#waiting = false;
        this.#next();
      }, this.#pauseMs);
      return;
    }
    this.#next();
  }

  #stop(why: string): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    this.#log(`page cache: ${why}, so old segments stay in the page cache; set broker.pageCache=os to leave it to the OS`);
    this.#helper?.stdin.end();
  }

  /** Wakes idle() waiters once nothing is queued, running or pausing; with the helper gone, nothing is running. */
  #settle(): void {
    if (this.#helper === null) this.#inFlight = null;
    if (!this.#enabled) {
      this.#files = [];
      this.#pieces = [];
    }
    if (!this.#isIdle()) return;
    (this.#helper?.stdout as Socket | undefined)?.unref();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
