import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { htpasswdLine } from '../deployments/nginx/htpasswd';

/** Arguments of {@link Credentials}. */
export interface CredentialsArgs {
  /** Basic-auth user for the API. */
  apiUser: string;
  /** User-supplied API password (a secret); when absent a random one is generated. */
  apiPassword?: pulumi.Input<string>;
  /** Length of generated passwords (default 40: ~238 bits from 62 symbols). */
  passwordLength?: number;
  /** Generate Grafana's `admin` password (default true; off when the stack runs no Grafana). */
  grafana?: boolean;
}

/**
 * The stack's credentials, generated once and kept in state as secrets.
 *
 * The htpasswd entry is a pure function of resource outputs (password, salt), never of a value
 * drawn at render time, so a second `pulumi up` with no change renders the same bytes and plans no
 * container replacement.
 */
export class Credentials extends pulumi.ComponentResource {
  /** Basic-auth user for the API. */
  readonly apiUser: string;
  /** API password (secret). */
  readonly apiPassword: pulumi.Output<string>;
  /** Grafana `admin` password (secret), when {@link CredentialsArgs.grafana} is on. */
  readonly grafanaPassword: pulumi.Output<string> | undefined;
  /** `user:{SSHA}...` line plus newline, for nginx `auth_basic_user_file` (secret). */
  readonly htpasswd: pulumi.Output<string>;

  constructor(name: string, args: CredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:credentials:Credentials', name, {}, opts);
    const length = args.passwordLength ?? 40;
    // Letters and digits only: pastes into curl, shells and URLs unquoted; length gives the strength.
    const password = (resource: string) =>
      new random.RandomPassword(
        `${name}-${resource}`,
        { length, special: false, minLower: 1, minUpper: 1, minNumeric: 1 },
        { parent: this },
      );

    const apiPassword = args.apiPassword ?? password('api-password').result;
    const grafanaPassword = (args.grafana ?? true) ? password('grafana-admin-password').result : undefined;
    const salt = new random.RandomBytes(`${name}-htpasswd-salt`, { length: 16 }, { parent: this });

    // Wrapping in secret() keeps these secret even where the engine doesn't (unit-test mocks).
    this.apiUser = args.apiUser;
    this.apiPassword = pulumi.secret(apiPassword);
    this.grafanaPassword = grafanaPassword && pulumi.secret(grafanaPassword);
    this.htpasswd = pulumi.secret(
      pulumi
        .all([this.apiPassword, salt.base64])
        .apply(
          ([pw, saltBase64]) => `${htpasswdLine(args.apiUser, pw, Buffer.from(saltBase64, 'base64'))}\n`,
        ),
    );
    this.registerOutputs({
      apiUser: this.apiUser,
      apiPassword: this.apiPassword,
      grafanaPassword: this.grafanaPassword,
      htpasswd: this.htpasswd,
    });
  }
}
