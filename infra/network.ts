import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';

/** Arguments of {@link Network}; the Docker network names derive from the component name. */
export interface NetworkArgs {
  /** Labels added to both networks (default none). */
  labels?: Record<string, string>;
}

/**
 * The stack's two user-defined bridge networks.
 *
 * - `backend` is `internal`: no route to the outside world and no published ports. The API
 *   replicas live only here; the gateway, the exporter and Prometheus join it to reach them.
 * - `edge` is an ordinary bridge: containers that publish a port on the host (gateway, Prometheus,
 *   Alertmanager, Grafana) or need egress (Alertmanager receivers) join it.
 */
export class Network extends pulumi.ComponentResource {
  /** Name of the internal backend network (pass to `networksAdvanced[].name`). */
  readonly backendName: pulumi.Output<string>;
  /** Name of the edge network (pass to `networksAdvanced[].name`). */
  readonly edgeName: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:network:Network', name, args, opts);
    const labels = Object.entries(args.labels ?? {}).map(([label, value]) => ({ label, value }));
    // Fixed names: a replacement must delete the old network first or creation collides.
    const childOpts = { parent: this, deleteBeforeReplace: true };
    const backend = new docker.Network(
      `${name}-backend`,
      { name: `${name}-backend`, driver: 'bridge', internal: true, labels },
      childOpts,
    );
    const edge = new docker.Network(
      `${name}-edge`,
      { name: `${name}-edge`, driver: 'bridge', labels },
      childOpts,
    );

    this.backendName = backend.name;
    this.edgeName = edge.name;
    this.registerOutputs({ backendName: this.backendName, edgeName: this.edgeName });
  }
}
