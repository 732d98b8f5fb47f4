import { performance } from 'node:perf_hooks';

/** What one submitter gets back from a (possibly shared) call. */
export interface BatchSlice<R> {
  /** Results of the submitted items, in order. */
  results: R[];
  /** Duration of the call that produced them. */
  seconds: number;
  /** Items in that call, over all submitters. */
  callSize: number;
  /** True for exactly one submitter per call, so per-call metrics are recorded once. */
  firstInCall: boolean;
}

interface Job<T, R> {
  items: readonly T[];
  resolve: (slice: BatchSlice<R>) => void;
  reject: (error: unknown) => void;
}

/**
 * Dynamic batching: the work submitted during one event-loop turn runs as one call of `run`, up to
 * `maxItems` items per call. A single-sentence ONNX run costs ~60 µs of fixed overhead and ~20 µs
 * per sentence (npm run bench:api), so under concurrency merging requests saves most of the former.
 * A submission is never split; if a merged call fails, each submission is retried alone so an error
 * only reaches the caller whose input caused it.
 */
export class MicroBatcher<T, R> {
  private pending: Job<T, R>[] = [];
  private scheduled = false;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxItems: number,
  ) {
    if (!(Number.isInteger(maxItems) && maxItems >= 1)) {
      throw new RangeError(`MicroBatcher: maxItems must be an integer >= 1 (got ${maxItems})`);
    }
  }

  /** Queues the items for the next call; resolves with their results once it ran. */
  submit(items: readonly T[]): Promise<BatchSlice<R>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the poll phase, so every request read in this turn joins the call.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.pending;
    this.pending = [];
    let group: Job<T, R>[] = [];
    let size = 0;
    for (const job of jobs) {
      if (group.length > 0 && size + job.items.length > this.maxItems) {
        void this.runGroup(group);
        group = [];
        size = 0;
      }
      group.push(job);
      size += job.items.length;
    }
    if (group.length > 0) void this.runGroup(group);
  }

  private async runGroup(jobs: Job<T, R>[]): Promise<void> {
    const items = jobs.flatMap((job) => job.items);
    const started = performance.now();
    let results: R[];
    try {
      results = await this.run(items);
      if (results.length !== items.length) {
        throw new Error(`batched call returned ${results.length} results for ${items.length} items`);
      }
    } catch (error) {
      if (jobs.length === 1) return jobs[0]!.reject(error);
      for (const job of jobs) void this.runGroup([job]);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    let offset = 0;
    jobs.forEach((job, i) => {
      const slice = results.slice(offset, offset + job.items.length);
      offset += job.items.length;
      job.resolve({ results: slice, seconds, callSize: items.length, firstInCall: i === 0 });
    });
  }
}
