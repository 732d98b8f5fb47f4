import { MicroBatcher } from '../../../services/api/src/batcher';

/** A recording batch function: doubles numbers, fails on any batch containing a negative number. */
function recorder() {
  const calls: number[][] = [];
  const run = async (items: number[]) => {
    calls.push([...items]);
    if (items.some((n) => n < 0)) throw new Error(`negative input in [${items}]`);
    return items.map((n) => n * 2);
  };
  return { calls, run };
}

describe('MicroBatcher', () => {
  it('runs the submissions of one event-loop turn as one call and gives each its own results in order', async () => {
    const { calls, run } = recorder();
    const batcher = new MicroBatcher(run, 100);
    const [a, b, c] = await Promise.all([
      batcher.submit([1, 2]),
      batcher.submit([3]),
      batcher.submit([4, 5, 6]),
    ]);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect([a.results, b.results, c.results]).toEqual([[2, 4], [6], [8, 10, 12]]);
    expect([a.callSize, b.callSize, c.callSize]).toEqual([6, 6, 6]);
    expect([a.firstInCall, b.firstInCall, c.firstInCall]).toEqual([true, false, false]);
    expect(a.seconds).toBe(b.seconds);
  });

  it('keeps submissions from different turns in separate calls', async () => {
    const { calls, run } = recorder();
    const batcher = new MicroBatcher(run, 100);
    const first = await batcher.submit([1]);
    const second = await batcher.submit([2]);
    expect(calls).toEqual([[1], [2]]);
    expect([first.firstInCall, second.firstInCall]).toEqual([true, true]);
  });

  it('caps a call at maxItems without splitting a submission', async () => {
    const { calls, run } = recorder();
    const batcher = new MicroBatcher(run, 4);
    const slices = await Promise.all([
      batcher.submit([1, 2, 3]),
      batcher.submit([4, 5]),
      batcher.submit([6]),
      batcher.submit([7, 8, 9, 10, 11]),
    ]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9, 10, 11],
    ]);
    expect(slices.map((s) => s.results)).toEqual([[2, 4, 6], [8, 10], [12], [14, 16, 18, 20, 22]]);
    expect(slices.map((s) => s.firstInCall)).toEqual([true, true, false, true]);
  });

  it('retries a failed merged call per submission, so only the offending caller gets the error', async () => {
    const { calls, run } = recorder();
    const batcher = new MicroBatcher(run, 100);
    const outcomes = await Promise.allSettled([
      batcher.submit([1]),
      batcher.submit([-1, 2]),
      batcher.submit([3]),
    ]);
    expect(outcomes[0]).toEqual({
      status: 'fulfilled',
      value: expect.objectContaining({ results: [2], callSize: 1 }),
    });
    expect(outcomes[1]).toEqual({ status: 'rejected', reason: new Error('negative input in [-1,2]') });
    expect(outcomes[2]).toEqual({
      status: 'fulfilled',
      value: expect.objectContaining({ results: [6], callSize: 1 }),
    });
    expect(calls).toEqual([[1, -1, 2, 3], [1], [-1, 2], [3]]);
  });

  it('rejects a call that returns the wrong number of results instead of misassigning them', async () => {
    const batcher = new MicroBatcher(async (items: number[]) => items.slice(1), 10);
    await expect(batcher.submit([1, 2])).rejects.toThrow('batched call returned 1 results for 2 items');
  });

  it('validates maxItems at construction', () => {
    expect(() => new MicroBatcher(async (items: number[]) => items, 0)).toThrow(
      'maxItems must be an integer >= 1 (got 0)',
    );
  });
});
