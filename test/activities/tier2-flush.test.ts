// Flushing the filesystem target while waves flush concurrently: no flush returns
// before the barrier that covers its objects has finished, and a failed barrier
// leaves its objects for the next flush. The thread work is stubbed: only the
// target's bookkeeping is under test here (tier2-fs.test.ts runs the real one).
import type { BarrierRequest, FsTier2Ops } from '../../lib/tier2-fs';
import { FsTier2Target } from '../../lib/tier2-fs';

const fingerprint = { dev: '1', ino: '2', size: 1, mtimeNs: '0', ctimeNs: '0' };

function target() {
  const barriers: { request: BarrierRequest; settle: (error?: Error) => void }[] = [];
  const ops: FsTier2Ops = {
    stage: async (items) => items.map(() => ({ ok: true as const, size: 1, sha256: 'a'.repeat(64) })),
    barrier: (request) => new Promise<void>((resolve, reject) => {
      barriers.push({ request, settle: (error) => (error ? reject(error) : resolve()) });
    }),
    hash: async () => [],
    fetch: async () => [],
  };
  return { barriers, t2: new FsTier2Target('file:///tier2', ops, 'fsync') };
}

const put = (t2: FsTier2Target, key: string) => t2.put([{ key, sourcePath: `/source/${key}`, fingerprint, label: key }]);
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('FsTier2Target.flush', () => {
  it('waits for a barrier in progress that took its objects', async () => {
    const { barriers, t2 } = target();
    await put(t2, 'share/a/one');
    let firstDone = false;
    let secondDone = false;
    const first = t2.flush().then(() => { firstDone = true; });
    // The first flush took every unflushed directory: the second finds nothing of its own to do.
    const second = t2.flush().then(() => { secondDone = true; });
    await turn();
    expect(barriers).toHaveLength(1);
    expect(barriers[0].request.dirs).toEqual(expect.arrayContaining(['/tier2/share/a', '/tier2/share', '/tier2']));
    expect([firstDone, secondDone]).toEqual([false, false]);
    barriers[0].settle();
    await Promise.all([first, second]);
    expect([firstDone, secondDone]).toEqual([true, true]);
  });

  it('waits for an earlier barrier as well as its own', async () => {
    const { barriers, t2 } = target();
    await put(t2, 'share/a/one');
    const first = t2.flush();
    await put(t2, 'share/b/two');
    let secondDone = false;
    const second = t2.flush().then(() => { secondDone = true; });
    await turn();
    expect(barriers.map((barrier) => barrier.request.dirs)).toEqual([
      expect.arrayContaining(['/tier2/share/a']), expect.arrayContaining(['/tier2/share/b']),
    ]);
    barriers[1].settle();
    await turn();
    expect(secondDone).toBe(false);
    barriers[0].settle();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
  });

  it('leaves the directories of a failed barrier to the next flush', async () => {
    const { barriers, t2 } = target();
    await put(t2, 'share/a/one');
    const failed = t2.flush();
    await turn();
    barriers[0].settle(new Error('EIO'));
    await expect(failed).rejects.toThrow('EIO');
    const retried = t2.flush();
    await turn();
    expect(barriers).toHaveLength(2);
    expect(barriers[1].request.dirs).toEqual(barriers[0].request.dirs);
    barriers[1].settle();
    await retried;
  });
});
