/** API & model dashboard, row "Process": memory, CPU and event-loop lag per replica (prom-client defaults). */
import { API_METRICS, SELECTOR, metric, rate } from '../../../prometheus/promql';
import { RATE_WINDOW, type Row, type RowFactory, timeseriesPanel } from '../panels';

/** Resident memory per replica. */
export function residentMemoryTimeseries() {
  return timeseriesPanel({
    title: 'Resident memory',
    description: 'Resident set size of each API process.',
    unit: 'bytes',
    min: 0,
    queries: [{ expr: metric(API_METRICS.residentMemory, SELECTOR.api), legend: '{{replica}}' }],
    span: 8,
  });
}

/** CPU usage per replica, in cores. */
export function cpuTimeseries() {
  return timeseriesPanel({
    title: 'CPU',
    description: 'CPU time per second (cores) of each API process.',
    unit: 'short',
    min: 0,
    queries: [
      { expr: rate(metric(API_METRICS.cpuSeconds, SELECTOR.api), RATE_WINDOW), legend: '{{replica}}' },
    ],
    span: 8,
  });
}

/** Event-loop lag p99 per replica: a busy loop delays every request on that replica. */
export function eventLoopLagTimeseries() {
  return timeseriesPanel({
    title: 'Event-loop lag p99',
    description: 'p99 event-loop lag of each API process: a busy loop delays every request on that replica.',
    unit: 's',
    min: 0,
    queries: [{ expr: metric(API_METRICS.eventLoopLagP99, SELECTOR.api), legend: '{{replica}}' }],
    span: 8,
  });
}

/** The row. */
export const processRow: RowFactory = (): Row => ({
  title: 'Process',
  panels: [residentMemoryTimeseries(), cpuTimeseries(), eventLoopLagTimeseries()],
});
