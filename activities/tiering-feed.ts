// The rows a host batch works through. A paged feed loads them a page at a time, the
// next page while the current one's waves run, so a large batch starts at once and
// never stalls between pages (each batch boundary drains the pipeline of waves).
import type { WorkRow } from '../db/queries/tiering';

export interface RowFeed {
  /** The rows loaded so far, in order; grows as ensure() loads more. */
  readonly rows: WorkRow[];
  /** Waits until `count` rows are loaded or there are no more; starts loading the page after them. */
  ensure(count: number): Promise<void>;
  /** Whether every row there was to load is loaded (fewer than the batch limit means the work is done). */
  readonly complete: boolean;
}

export function arrayFeed(rows: WorkRow[]): RowFeed {
  return { rows, ensure: async () => undefined, complete: true };
}

export class PagedFeed implements RowFeed {
  readonly rows: WorkRow[] = [];
  private loading: Promise<void> | null = null;
  private exhausted = false;

  /** load(afterId, n): the next n rows after the row id afterId, in id order. */
  constructor(
    private readonly load: (afterId: number, limit: number) => Promise<WorkRow[]>,
    private readonly limit: number, private readonly page: number, private afterId: number,
  ) {}

  get complete(): boolean { return this.exhausted; }

  async ensure(count: number): Promise<void> {
    while (!this.exhausted && this.rows.length < Math.min(count, this.limit)) await this.fetch();
    if (!this.exhausted && this.rows.length < Math.min(count + this.page, this.limit)) {
      // Read ahead; a failure here is retried by the next ensure() that needs the rows.
      this.fetch().catch(() => undefined);
    }
  }

  private fetch(): Promise<void> {
    this.loading ??= (async () => {
      const wanted = Math.min(this.page, this.limit - this.rows.length);
      const loaded = await this.load(this.afterId, wanted);
      this.rows.push(...loaded);
      if (loaded.length > 0) this.afterId = loaded[loaded.length - 1].id;
      if (loaded.length < wanted || this.rows.length >= this.limit) this.exhausted = true;
    })().finally(() => { this.loading = null; });
    return this.loading;
  }
}
