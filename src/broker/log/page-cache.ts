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
// How: posix_fadvise(POSIX_FADV_DONTNEED) over the whole file, which Node does not expose; `dd iflag=nocache count=0`
// (GNU coreutils) makes exactly that call without reading anything. One dd at a time; these are hints, so a request
// that fails is logged once and otherwise ignored, and a missing dd turns the dropping off.
import { spawn } from 'node:child_process';

/** Pending requests beyond this are forgotten (oldest first): dropping is a hint, never a backlog. */
const MAX_PENDING = 256;

export type PageCacheMode = 'recent' | 'os';

export class PageCacheDropper {
  readonly #log: (line: string) => void;
  readonly #command: string;
  #enabled: boolean;
  #pending: string[] = [];
  #running: Promise<void> | null = null;
  #warned = false;
  /** Files dropped so far (for status and tests). */
  dropped = 0;

  constructor(options: { mode: PageCacheMode; log: (line: string) => void; command?: string }) {
    this.#log = options.log;
    this.#command = options.command ?? 'dd';
    this.#enabled = options.mode === 'recent' && process.platform === 'linux';
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Asks for the cached pages of `file` to be dropped, soon; returns at once. */
  drop(file: string): void {
    if (!this.#enabled || this.#pending.includes(file)) return;
    this.#pending.push(file);
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    this.#running ??= this.#drain();
  }

  /** Resolves once every request made so far has been tried. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /** Forgets what is pending and waits for the request being tried. */
  async close(): Promise<void> {
    this.#pending = [];
    await this.idle();
  }

  async #drain(): Promise<void> {
    try {
      for (let file = this.#pending.shift(); file !== undefined && this.#enabled; file = this.#pending.shift()) {
        await this.#dropOne(file);
      }
    } finally {
      this.#running = null;
    }
  }

  #dropOne(file: string): Promise<void> {
    return new Promise((resolve) => {
      let stderr = '';
      const child = spawn(this.#command, [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        if (stderr.length < 1000) stderr += d;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        this.#enabled = false;
        this.#pending = [];
        this.#log(`page cache: cannot run ${this.#command} (${err.code ?? err.message}), so old segments stay in the page cache; set broker.pageCache=os to leave it to the OS`);
        resolve();
      });
      child.on('close', (code) => {
        if (code === 0) this.dropped++;
        // A segment deleted by retention in the meantime is not a problem worth a line.
        else if (code !== null && !this.#warned && !/No such file/i.test(stderr)) {
          this.#warned = true;
          this.#log(`page cache: ${this.#command} could not drop the cache of ${file} (exit ${code}: ${stderr.trim() || 'no message'}); further failures are not logged`);
        }
        resolve();
      });
    });
  }
}
