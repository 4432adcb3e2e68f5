// The act's wave sizes: full waves while plenty is left, then a tail of halving waves.
import { MIN_TAIL_WAVE, nextWaveSize } from '../../activities/tiering-waves';

function wavesFor(total: number, waveSize: number): number[] {
  const waves: number[] = [];
  for (let next = 0; next < total;) {
    const size = nextWaveSize(waveSize, total - next);
    waves.push(size);
    next += size;
  }
  return waves;
}

describe('nextWaveSize', () => {
  it('keeps full waves until less than two are left, then halves what is left', () => {
    expect(wavesFor(25_000, 2000)).toEqual([...Array(11).fill(2000), 1500, 750, 375, 250, 125]);
  });

  it('never cuts below the smallest tail wave, nor asks for more than is left', () => {
    expect(nextWaveSize(2000, 300)).toBe(MIN_TAIL_WAVE);
    expect(nextWaveSize(2000, 100)).toBe(100);
    expect(nextWaveSize(2000, 0)).toBe(0);
  });

  it('leaves waves no larger than the tail minimum as they are', () => {
    expect(wavesFor(7, 2)).toEqual([2, 2, 2, 1]);
    expect(wavesFor(600, 250)).toEqual([250, 250, 100]);
  });

  it('covers every row exactly once', () => {
    for (const [total, size] of [[1, 1], [4999, 2000], [50_000, 4096], [12_345, 700]]) {
      expect(wavesFor(total, size).reduce((sum, wave) => sum + wave, 0)).toBe(total);
    }
  });
});
