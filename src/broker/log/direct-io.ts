// Direct I/O for log appends (broker.directIo): the batches are copied into page-aligned staging memory and written
// with O_DIRECT, so the kernel hands the bytes to the disk without first copying them into the page cache.
//
// Why: on the virtual machines measured (docs/benchmarks.md), copying appended data into page-cache memory the guest
// had not used lately was the largest single cost of a produce stream: 0.7 to 2 CPU-seconds per GiB, against about
// 0.3 for the same appends written directly. A copy into staging memory that is reused append after append costs
// little beside it.
//
// The rules O_DIRECT sets: the memory, the file position and the length of each write are multiples of the device's
// block size. Node allocates Buffers with no such alignment; a WebAssembly.Memory's buffer starts on a page, so staging
// blocks are carved out of those. Appends end anywhere, so each write starts at the block boundary at or before the
// end of the log and carries the bytes of that last partial block again (the `carry`), and it ends with zeros up to
// the next boundary. Those zeros lie beyond the log's committed end: readers never look there, the next append writes
// over them, sealing and closing truncate them, and recovery after a crash recognises them (`isPadding`).
import { constants as fsConstants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';

/** Alignment of positions, lengths and memory; a multiple of every logical block size in use (512 and 4096). */
export const DIRECT_ALIGN = 4096;
/** Staging memory is handed out in blocks of this size; one append takes as many as its bytes need. */
export const STAGING_BLOCK_BYTES = 256 * 1024;
/** Blocks per WebAssembly.Memory (16 MiB); more arenas are added while appends hold every block. */
export const ARENA_BLOCKS = 64;
const WASM_PAGE_BYTES = 64 * 1024;

/** The one part of the WebAssembly API used here (the project's type libraries do not declare it). */
type WasmMemory = { readonly buffer: ArrayBuffer };
type WasmMemoryConstructor = new (d: { initial: number }) => WasmMemory;

/** WebAssembly.Memory, absent when WebAssembly is turned off (node --jitless); the probe then turns direct I/O off. */
function wasmMemory(): WasmMemoryConstructor {
  const memory = (globalThis as { WebAssembly?: { Memory?: WasmMemoryConstructor } }).WebAssembly?.Memory;
  if (memory === undefined) throw new Error('WebAssembly, whose memory gives the aligned staging buffers, is not available');
  return memory;
}

/** O_DIRECT, or 0 on platforms without it (then direct I/O is off). */
export const O_DIRECT: number = (fsConstants as Record<string, number>).O_DIRECT ?? 0;

/**
 * Free blocks of this many arenas are kept beyond what the appends in flight hold; an arena whose blocks are all free
 * is let go when more than that is free, so a burst does not keep its memory and a load that rises and falls a little
 * does not allocate fresh memory each time (which is what direct I/O saves).
 */
export const KEPT_ARENAS = 2;

/**
 * Page-aligned staging blocks shared by every partition of a broker. Blocks are held only while an append is being
 * written, so the pool grows to the bytes being written at once (bounded by the requests the connections may have
 * unanswered); once that falls again, wholly free arenas are let go (see KEPT_ARENAS).
 */
export class StagingPool {
  /** Free blocks; the most recently released are handed out first, so a steady load keeps to few arenas. */
  #free: Buffer[] = [];
  /** Free blocks per arena, by the arena's memory. */
  #arenaFree = new Map<ArrayBufferLike, number>();
  #inUse = 0;

  /** Blocks covering `bytes`, each STAGING_BLOCK_BYTES long and page-aligned. Give them back with release(). */
  acquire(bytes: number): Buffer[] {
    const n = Math.max(1, Math.ceil(bytes / STAGING_BLOCK_BYTES));
    while (this.#free.length < n) this.#grow();
    this.#inUse += n;
    const taken = this.#free.splice(this.#free.length - n, n);
    for (const b of taken) this.#arenaFree.set(b.buffer, this.#arenaFree.get(b.buffer)! - 1);
    return taken;
  }

  release(blocks: readonly Buffer[]): void {
    this.#inUse -= blocks.length;
    const emptied: ArrayBufferLike[] = [];
    for (const b of blocks) {
      this.#free.push(b);
      const free = this.#arenaFree.get(b.buffer)! + 1;
      this.#arenaFree.set(b.buffer, free);
      if (free === ARENA_BLOCKS) emptied.push(b.buffer);
    }
    for (const arena of emptied) {
      if (this.#free.length - ARENA_BLOCKS < KEPT_ARENAS * ARENA_BLOCKS) break;
      this.#arenaFree.delete(arena);
      this.#free = this.#free.filter((b) => b.buffer !== arena);
    }
  }

  /** Bytes of staging memory allocated (in use and free). */
  get allocatedBytes(): number {
    return this.#arenaFree.size * ARENA_BLOCKS * STAGING_BLOCK_BYTES;
  }

  get blocksInUse(): number {
    return this.#inUse;
  }

  #grow(): void {
    const Memory = wasmMemory();
    const memory = new Memory({ initial: (ARENA_BLOCKS * STAGING_BLOCK_BYTES) / WASM_PAGE_BYTES });
    const whole = Buffer.from(memory.buffer);
    for (let i = 0; i < ARENA_BLOCKS; i++) this.#free.push(whole.subarray(i * STAGING_BLOCK_BYTES, (i + 1) * STAGING_BLOCK_BYTES));
    this.#arenaFree.set(memory.buffer, ARENA_BLOCKS);
  }
}

export function alignDown(n: number): number {
  return n - (n % DIRECT_ALIGN);
}

export function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGN) * DIRECT_ALIGN;
}

/** True when `tail` (bytes after the last whole batch of a log file) is what a direct append leaves: fewer than one
 * alignment unit of zeros, ending on a boundary. */
export function isPadding(tail: Buffer, fileSize: number): boolean {
  if (tail.length >= DIRECT_ALIGN || fileSize % DIRECT_ALIGN !== 0) return false;
  for (const b of tail) if (b !== 0) return false;
  return true;
}

/**
 * Whether files in `dir` take O_DIRECT writes: writes one aligned block to a scratch file and removes it. Returns null
 * when they do, or the reason they do not (some file systems, such as ramfs, refuse O_DIRECT).
 */
export async function probeDirectIo(dir: string, pool: StagingPool): Promise<string | null> {
  if (O_DIRECT === 0) return 'this platform has no O_DIRECT';
  const file = path.join(dir, `.direct-io-probe-${process.pid}`);
  let blocks: Buffer[] = [];
  try {
    blocks = pool.acquire(DIRECT_ALIGN);
    const fh = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | O_DIRECT, 0o644);
    try {
      const block = blocks[0]!.subarray(0, DIRECT_ALIGN).fill(0);
      const { bytesWritten } = await fh.write(block, 0, DIRECT_ALIGN, 0);
      if (bytesWritten !== DIRECT_ALIGN) return `a direct write of ${DIRECT_ALIGN} bytes wrote ${bytesWritten}`;
    } finally {
      await fh.close();
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    pool.release(blocks);
    await rm(file, { force: true });
  }
}
