// Allocates idempotent producer ids that stay unique across restarts: ids are reserved in blocks recorded in
// dataDir/producer-ids.json before any id of the block is handed out, so a crash can skip ids but never reuse one.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const BLOCK = 1000;

export class ProducerIdAllocator {
  private readonly file: string;
  private next: number;
  private reservedUntil: number;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(file: string, next: number) {
    this.file = file;
    this.next = next;
    this.reservedUntil = next;
  }

  static async open(dataDir: string): Promise<ProducerIdAllocator> {
    const file = path.join(dataDir, 'producer-ids.json');
    let next = 1000;
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { reservedUntil?: unknown };
      if (typeof saved.reservedUntil === 'number') next = saved.reservedUntil;
    } catch {
      // first start
    }
    return new ProducerIdAllocator(file, next);
  }

  allocate(): Promise<number> {
    const work = this.chain.then(async () => {
      if (this.next >= this.reservedUntil) {
        const until = this.reservedUntil + BLOCK;
        await writeFile(`${this.file}.tmp`, JSON.stringify({ reservedUntil: until }));
        await rename(`${this.file}.tmp`, this.file);
        this.reservedUntil = until;
      }
      return this.next++;
    });
    this.chain = work.catch(() => undefined);
    return work;
  }
}
