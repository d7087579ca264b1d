// Keeps the catalog current while the lake runs: a crawl every interval, and one soon after the sink commits files,
// so a query sees new files within about a second instead of waiting for the next interval. Crawls never overlap.
import type { ObjectStore } from '../storage/index.ts';
import { crawl, type CrawlResult, type CrawlTable } from './crawler.ts';
import type { CatalogStore } from './store.ts';

export type CrawlSchedulerOptions = {
  catalog: CatalogStore;
  store: ObjectStore;
  namespace: string;
  tables: CrawlTable[];
  /** 0: only on demand (crawlSoon / crawlNow). */
  intervalMs: number;
  /** How long crawlSoon waits for more commits before crawling. */
  debounceMs?: number;
  log: (line: string) => void;
};

export class CrawlScheduler {
  readonly #o: CrawlSchedulerOptions;
  #interval: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #running: Promise<CrawlResult | null> | null = null;
  #again = false;
  #closed = false;
  #last: CrawlResult | null = null;

  constructor(options: CrawlSchedulerOptions) {
    this.#o = options;
    if (options.intervalMs > 0) this.#interval = setInterval(() => void this.crawlNow(), options.intervalMs);
  }

  /** The last crawl's result, or null before the first. */
  get last(): CrawlResult | null {
    return this.#last;
  }

  /** Crawls after a short wait (commits come in bursts); several calls in the wait make one crawl. */
  crawlSoon(): void {
    if (this.#closed || this.#soon !== undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.crawlNow();
    }, this.#o.debounceMs ?? 300);
  }

  /** Crawls now, or once more right after the crawl that is running; resolves when the catalog is current. */
  crawlNow(): Promise<CrawlResult | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<CrawlResult | null> => {
      let result: CrawlResult | null = null;
      do {
        this.#again = false;
        try {
          result = await crawl(this.#o.catalog, this.#o.store, this.#o.namespace, this.#o.tables, this.#o.log);
          this.#last = result;
          for (const p of result.problems) this.#o.log(`crawl: skipped ${p.path} of ${p.table}: ${p.why}`);
        } catch (err) {
          this.#o.log(`crawl failed: ${(err as Error).message}; trying again at the next commit or interval`);
        }
      } while (this.#again && !this.#closed);
      return result;
    };
    this.#running = run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Stops the timers and waits for a crawl in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#interval);
    clearTimeout(this.#soon);
    await this.#running;
  }
}
