// The act batch's paged row feed: it loads only what the waves need plus one page
// ahead, stops at the batch limit or when the rows run out, and a failed read-ahead
// is read again when its rows are needed. The loader is stubbed (the query itself is
// covered by the tiering workflow tests against Postgres).
import type { WorkRow } from '../../db/queries/tiering';
import { PagedFeed } from '../../activities/tiering-feed';

const row = (id: number): WorkRow => ({ id, fullPath: `/s/${id}`, relPath: `${id}`, targetUri: `file:///t/${id}`, size: 1, mtime: 0, sha256: null });

function source(total: number, failOnce: number[] = []) {
  const calls: { afterId: number; limit: number }[] = [];
  const failing = new Set(failOnce);
  const load = async (afterId: number, limit: number) => {
    calls.push({ afterId, limit });
    if (failing.delete(calls.length)) throw new Error('connection reset');
    const rows: WorkRow[] = [];
    for (let id = afterId + 1; id <= total && rows.length < limit; id++) rows.push(row(id));
    return rows;
  };
  return { calls, load };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PagedFeed', () => {
  it('loads the rows needed and one page ahead, from the cursor on', async () => {
    const { calls, load } = source(100);
    const feed = new PagedFeed(load, 50, 10, 5);
    await feed.ensure(3);
    await settle();
    expect(calls).toEqual([{ afterId: 5, limit: 10 }, { afterId: 15, limit: 10 }]);
    expect(feed.rows.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    expect(feed.complete).toBe(false);
  });

  it('stops at the batch limit, and when the rows run out before it', async () => {
    const limited = source(100);
    const feed = new PagedFeed(limited.load, 25, 10, 0);
    await feed.ensure(1000);
    expect(feed.rows).toHaveLength(25);
    expect(limited.calls.at(-1)).toEqual({ afterId: 20, limit: 5 });
    expect(feed.complete).toBe(true);

    const short = source(12);
    const shortFeed = new PagedFeed(short.load, 50, 10, 0);
    await shortFeed.ensure(1000);
    expect(shortFeed.rows.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(shortFeed.complete).toBe(true);
  });

  it('reads a page again when its read-ahead failed, and rethrows a failure it waits on', async () => {
    const { calls, load } = source(100, [2]);
    const feed = new PagedFeed(load, 100, 10, 0);
    await feed.ensure(5);
    await settle();
    expect(feed.rows).toHaveLength(10);
    await feed.ensure(15);
    expect(feed.rows.slice(0, 20).map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(calls.slice(0, 3)).toEqual([{ afterId: 0, limit: 10 }, { afterId: 10, limit: 10 }, { afterId: 10, limit: 10 }]);

    const broken = new PagedFeed(async () => { throw new Error('relation gone'); }, 10, 5, 0);
    await expect(broken.ensure(1)).rejects.toThrow('relation gone');
  });
});
