import * as docker from '@pulumi/docker';
import type * as pulumi from '@pulumi/pulumi';

/** No Linux capabilities and no privilege gain: for processes that run as a non-root user. */
export const hardening = {
  capabilities: { drops: ['ALL'] },
  securityOpts: ['no-new-privileges:true'],
};

/**
 * A memory limit with no swap beyond it. Docker gives a container with only `memory` a swap limit of
 * twice that; the provider reads it back into `memorySwap`, which the program then never set, so every
 * later plan proposed an update to clear it (measured on the first real `pulumi up`).
 */
export function memoryLimit(mb: number): { memory: number; memorySwap: number } {
  return { memory: mb, memorySwap: mb };
}

/**
 * How long `pulumi destroy` and a replacement wait after the stop signal before killing, per process.
 * Without it the provider stops with a 0 s timeout: a kill in the middle of a write.
 * - nginx: graceful shutdown (SIGQUIT) lets in-flight requests finish (proxy read timeout 10 s).
 * - Prometheus: closes the TSDB head and WAL cleanly; the docs allow minutes on big heads.
 * - Alertmanager: writes its silences and notification log snapshot on SIGTERM.
 */
export const STOP_GRACE_SECONDS = {
  gateway: 15,
  prometheus: 60,
  alertmanager: 20,
  grafana: 20,
  sidecar: 10,
} as const;

/**
 * Memory limits in MiB, sized from `npm run test:e2e:faults` and `npm run bench -- --only docker`:
 * the cgroup peak of each container from its start and through 60 s at 64 connections (2026-12-02,
 * README "Memory limits"). Each keeps 3-4x its measured peak, more where use grows with time.
 * - gateway 64: peak 16 MiB with 2 workers (pinned: `worker_processes auto` would count the host's
 *   CPUs, and memory with them); the shared zones (rate limit, upstreams) fill with use.
 * - Prometheus 256: peak 29 MiB after minutes; its head block grows for 2 h before compaction.
 * - Alertmanager 64: peak 17 MiB; silences and alerts are small.
 * - exporter 32, mtail 32: peaks 4 and 9 MiB.
 * - Grafana 256: not measured (it cannot run here); its documented minimum.
 * The API's (256, `apiMemoryMb`) is a setting: peaks 80 MiB at start, 110 MiB in the soak.
 */
export const MEMORY_LIMIT_MB = {
  gateway: 64,
  nginxExporter: 32,
  prometheus: 256,
  alertmanager: 64,
  grafana: 256,
  gatewayMetrics: 32,
} as const;

/** Bounded json-file logs (`docker logs` works; the disk doesn't fill). Explicit driver: the options are its own. */
export const logging = {
  logDriver: 'json-file',
  logOpts: { 'max-size': '10m', 'max-file': '3' },
};

/**
 * A pinned upstream image, pulled once. `keepLocally`: another stack on the same host may run the
 * same image, so `pulumi destroy` must not delete it from under that stack's containers.
 */
export function pinnedImage(name: string, ref: string, parent: pulumi.Resource): docker.RemoteImage {
  return new docker.RemoteImage(name, { name: ref, keepLocally: true }, { parent });
}

/** Host name clients use for a bind address: the certificate covers `localhost` and the bind address. */
export function publicHost(bindAddress: string): string {
  return bindAddress === '127.0.0.1' || bindAddress === '0.0.0.0' ? 'localhost' : bindAddress;
}
