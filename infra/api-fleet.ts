import { createHash } from 'node:crypto';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { API_ROUTES, PORTS, SERVICE, type ApiVariant } from '../deployments/names';
import { replicaName, type ApiTarget } from '../deployments/prometheus/settings';
import { hardening, logging, memoryLimit, pinnedImage } from './docker-common';

/** Arguments of {@link ApiImage}. */
export interface ApiImageArgs {
  /** Build context, relative to the Pulumi project (default `.`: npm workspaces keep the lockfile at the root). */
  context?: string;
  /** Dockerfile path, relative to the Pulumi project (default `services/api/Dockerfile`). */
  dockerfile?: string;
  /** Local tag (default `<component name>:local`); containers run the built image id, not this tag. */
  imageName?: string;
  /**
   * An image already built on the engine (`repo:tag`, e.g. by `npm run airgap:images`) to run
   * instead of building; default none (build).
   */
  prebuilt?: string;
}

/** The API image: built locally and never pushed, or a prebuilt local image. */
export class ApiImage extends pulumi.ComponentResource {
  /** The image's id (`sha256:...`): a rebuild changes it, which replaces the containers. */
  readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: ApiImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:api:ApiImage', name, args, opts);
    if (args.prebuilt !== undefined) {
      this.imageId = pinnedImage(name, args.prebuilt, this).imageId;
    } else {
      const image = new docker.Image(
        name,
        {
          imageName: args.imageName ?? `${name}:local`,
          build: { context: args.context ?? '.', dockerfile: args.dockerfile ?? 'services/api/Dockerfile' },
          skipPush: true,
        },
        { parent: this },
      );
      // For a local (unpushed) image repoDigest is the image id.
      this.imageId = image.repoDigest;
    }
    this.registerOutputs({ imageId: this.imageId });
  }
}

/** Arguments of {@link ApiFleet}. */
export interface ApiFleetArgs {
  /** Variant every replica serves (`API_VARIANT`). */
  variant: ApiVariant;
  /** Number of replicas (at least 1). */
  replicas: number;
  /** Image to run (an {@link ApiImage.imageId}). */
  image: pulumi.Input<string>;
  /** Network the replicas join, with their aliases (the internal backend network). */
  network: pulumi.Input<string>;
  /** Memory limit per replica in MiB (default 256). */
  memoryMb?: number;
  /** `LOG_LEVEL` of the API (default `info`). */
  logLevel?: string;
}

/**
 * DNS aliases of a fleet's replicas on the backend network: `api-v1-1..N`, and `api-v2` for a single
 * v2 replica. The same names go to the nginx upstreams, the Prometheus `replica` label (one rule,
 * `replicaName`, shared with the Prometheus renderer) and each replica's `REPLICA_ID`.
 */
export function replicaHosts(variant: ApiVariant, replicas: number): string[] {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new Error(`replicas must be a positive integer (got ${replicas})`);
  }
  return Array.from({ length: replicas }, (_, i) => replicaName(variant, i, replicas));
}

/** The fleet-wide alias (`api-v1`, `api-v2`): DNS round-robin over the fleet's replicas. */
export function serviceName(variant: ApiVariant): string {
  return variant === 'v1' ? SERVICE.apiV1 : SERVICE.apiV2;
}

/**
 * A container name unique to its spec: `<resourceName>-<10 hex of a SHA-256 of the resolved spec>`.
 * Any change that would replace the container changes the name, so its replacement can be created
 * while it still serves (Docker names are unique).
 */
export function containerName(resourceName: string, spec: object): pulumi.Output<string> {
  return pulumi.output(spec).apply((resolved) => `${resourceName}-${specHash(resolved)}`);
}

/** 10 hex digits of a SHA-256 of a JSON value with its object keys sorted. */
export function specHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex')
    .slice(0, 10);
}

/** Healthy means ready: model loaded and warmed up. The slim Node image has no curl. */
const READY_CHECK = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${PORTS.api}${API_ROUTES.ready}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];

/**
 * N identical replicas of one API variant on the backend network: no published ports, read-only
 * root filesystem, no capabilities, a memory limit, a readiness healthcheck and a restart policy.
 */
export class ApiFleet extends pulumi.ComponentResource {
  /** Backend DNS alias of each replica, in order (`api-v1-1`, ...). */
  readonly hosts: string[];
  /**
   * `container-name:port` of each replica, for the nginx upstreams: unique to one container, so
   * nginx never confuses a replica with its replacement while both run.
   */
  readonly addresses: pulumi.Output<string>[];
  /** Each replica as Prometheus scrapes it, labelled with its replica name and version. */
  readonly targets: ApiTarget[];
  /**
   * Docker container names: the component name, the replica suffix (`-1`, ...) and a hash of the
   * container's whole spec, so a changed replica gets a new name and starts beside the old one.
   */
  readonly containerNames: pulumi.Output<string>[];

  constructor(name: string, args: ApiFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:api:ApiFleet', name, {}, opts);
    this.hosts = replicaHosts(args.variant, args.replicas);
    // Prometheus scrapes the stable aliases: its config does not change with every rollout.
    this.targets = this.hosts.map((host) => ({
      address: `${host}:${PORTS.api}`,
      replica: host,
      version: args.variant,
    }));

    const service = serviceName(args.variant);
    const containers: docker.Container[] = [];
    for (const host of this.hosts) {
      const resourceName = `${name}${host.slice(service.length)}`;
      const spec: Omit<docker.ContainerArgs, 'name'> = {
        image: args.image,
        envs: [
          `PORT=${PORTS.api}`,
          `API_VARIANT=${args.variant}`,
          `REPLICA_ID=${host}`,
          `LOG_LEVEL=${args.logLevel ?? 'info'}`,
        ],
        networksAdvanced: [{ name: args.network, aliases: [...new Set([host, service])] }],
        healthcheck: {
          tests: READY_CHECK,
          interval: '10s',
          timeout: '3s',
          retries: 3,
          startPeriod: '20s',
        },
        // `up` returns (and the next replica starts) only once this one is ready.
        wait: true,
        waitTimeout: 120,
        restart: 'unless-stopped',
        ...memoryLimit(args.memoryMb ?? 256),
        readOnly: true,
        // onnxruntime and Node may write temp files; nothing else is writable.
        tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
        ...hardening,
        // The API drains in-flight requests within 10 s of SIGTERM.
        destroyGraceSeconds: 15,
        ...logging,
      };
      const previous = containers.at(-1);
      containers.push(
        new docker.Container(
          resourceName,
          { ...spec, name: containerName(resourceName, spec) },
          // Rolling replacement: Pulumi creates the new container (a new name) and waits for it to
          // be healthy before the next replica's turn; the old ones are deleted at the end, after
          // the gateway has reloaded onto the new names. Explicit: the docker provider asks for
          // delete-before-replace on every container (names are unique), which would stop the old
          // replica before its successor exists.
          { parent: this, deleteBeforeReplace: false, ...(previous && { dependsOn: [previous] }) },
        ),
      );
    }
    this.addresses = containers.map((c) => pulumi.interpolate`${c.name}:${PORTS.api}`);
    this.containerNames = containers.map((c) => c.name);
    this.registerOutputs({
      hosts: this.hosts,
      addresses: this.addresses,
      targets: this.targets,
      containerNames: this.containerNames,
    });
  }
}
