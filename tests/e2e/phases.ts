/** Phase timing for the end-to-end tiers: each named step's duration, printed once at the end. */
export interface PhaseClock {
  /** Runs `body`, recording how long it took under `name`. */
  phase<T>(name: string, body: () => Promise<T>): Promise<T>;
  /** Records a duration measured elsewhere. */
  record(name: string, ms: number): void;
  /** The table of every phase, in order. */
  report(title: string): string;
}

export function phaseClock(): PhaseClock {
  const phases: [string, number][] = [];
  return {
    async phase(name, body) {
      const started = Date.now();
      try {
        return await body();
      } finally {
        phases.push([name, Date.now() - started]);
      }
    },
    record: (name, ms) => void phases.push([name, ms]),
    report(title) {
      const width = Math.max(0, ...phases.map(([name]) => name.length));
      return `${title}:\n${phases.map(([name, ms]) => `  ${name.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)} s`).join('\n')}`;
    },
  };
}
