// Writes a tiering plan's pages: each page's rows in two transactions of half a page
// (the insert is Postgres CPU, and two use both cores), up to two pages at once, and
// the plan's progress saved strictly in page order once every page before has
// committed. A crash or a failed half can leave rows of a page past the saved
// progress; the retry plans that page again, and the insert counts a row this plan
// already holds as planned once more, so the counts stay exact.
import type { PoolClient } from 'pg';
import { insertPlanned, type PlannedRow } from '../db/queries/tiering';
import * as plans from '../db/queries/tiering-plan';

/** What choosing a page decided (its cursor and its filter counts), kept apart from what writing it found. */
export type SelectionProgress = Pick<plans.PlanProgress, 'afterFileId' | 'candidates' | 'filtered' | 'outsideRoot' | 'unsafePath' | 'capped'>;

export interface PageWriterOptions {
  planId: string; shareName: string; plannedBy: string; tenantId: string;
  /** The progress the plan resumed from; updated as pages are saved. */
  progress: plans.PlanProgress;
  /** Pages written at once: 1 where choosing the next page needs this one's result (caps). */
  inFlight: number;
  transaction: <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>;
  onSaved: (progress: plans.PlanProgress) => void;
}

/** Pages of at least this many rows are written as two halves at once. */
const SPLIT_PAGES_FROM = 1000;

export class PlanPageWriter {
  private saved: Promise<void> = Promise.resolve();
  private readonly writing: Promise<unknown>[] = [];
  private failure: Error | null = null;

  constructor(private readonly options: PageWriterOptions) {}

  /** Starts writing a page; waits while the in-flight limit is reached. `last`: the plan ends with this page unless its cap is unfilled. */
  async submit(rows: PlannedRow[], selection: SelectionProgress, last: boolean): Promise<void> {
    this.throwIfFailed();
    const { options } = this;
    const inserted = this.insertPage(rows);
    inserted.catch(() => undefined); // observed through `saved` below, never left unhandled
    this.saved = this.saved.then(async () => {
      if (this.failure) return;
      const { files, bytes } = await inserted;
      const progress = options.progress;
      Object.assign(progress, selection);
      // A capped page ends the plan, unless paths planned before left room under the cap: then the next rows fill it.
      progress.done = last && (!selection.capped || files === rows.length);
      progress.planned = (progress.planned ?? 0) + files;
      progress.plannedBytes = (progress.plannedBytes ?? 0) + bytes;
      progress.alreadyPlanned = (progress.alreadyPlanned ?? 0) + rows.length - files;
      await options.transaction((client) => plans.savePlanProgress(client, options.planId, progress));
      options.onSaved(progress);
    }).catch((error: Error) => { this.failure ??= error; });
    this.writing.push(inserted.then(() => undefined, () => undefined));
    if (this.writing.length >= options.inFlight) await this.writing.shift();
  }

  /** Waits until every submitted page is written and its progress saved; rethrows the first failure. */
  async drain(): Promise<plans.PlanProgress> {
    await Promise.all(this.writing);
    await this.saved;
    this.throwIfFailed();
    return this.options.progress;
  }

  /**
   * A page's rows in two transactions at once, so the last page, which no other page
   * overlaps, still keeps both cores busy; the page counts once both have committed.
   */
  private async insertPage(rows: PlannedRow[]): Promise<{ files: number; bytes: number }> {
    const { options } = this;
    const write = (part: PlannedRow[]) => options.transaction((client) =>
      insertPlanned(client, options.tenantId, { planId: options.planId, shareName: options.shareName, plannedBy: options.plannedBy }, part));
    if (rows.length < SPLIT_PAGES_FROM) return write(rows);
    const half = Math.ceil(rows.length / 2);
    // Both halves settle before the page fails, so no write outlives the plan's activity.
    const [first, second] = await Promise.allSettled([write(rows.slice(0, half)), write(rows.slice(half))]);
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'rejected') throw second.reason;
    return { files: first.value.files + second.value.files, bytes: first.value.bytes + second.value.bytes };
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
