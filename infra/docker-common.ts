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
