/**
 * Typed settings for the Alertmanager config: receivers (webhook, e-mail), grouping and timing.
 *
 * No receiver by default: alerts are still visible in Alertmanager's UI and API, and go nowhere else.
 * Secrets never sit in the settings: e-mail passwords and webhook bearer tokens are file paths that
 * the deployment mounts (Alertmanager 0.25 reads `auth_password_file` and `credentials_file`).
 */
import {
  assertAbsolutePath,
  assertArray,
  assertDuration,
  assertHostPort,
  assertHttpUrl,
  assertLabelName,
  assertMatches,
  assertText,
  assertUnique,
} from '../prometheus/validate';

/** POSTs alerts as JSON to `url`. */
export interface WebhookReceiver {
  readonly kind: 'webhook';
  readonly name: string;
  /** Without credentials in it (validated). */
  readonly url: string;
  /** File holding a bearer token sent as `Authorization: Bearer …`. Optional. */
  readonly bearerTokenFile?: string;
  /** Also notify when an alert resolves. Default true. */
  readonly sendResolved: boolean;
}

/** Sends alerts by e-mail through an SMTP smarthost. */
export interface EmailReceiver {
  readonly kind: 'email';
  readonly name: string;
  readonly to: string;
  readonly from: string;
  /** `host:port` of the SMTP server. */
  readonly smarthost: string;
  readonly authUsername?: string;
  /** File holding the SMTP password (required with `authUsername`). */
  readonly authPasswordFile?: string;
  /** Require STARTTLS. Default true. */
  readonly requireTls: boolean;
  /** Also notify when an alert resolves. Default false. */
  readonly sendResolved: boolean;
}

export type AlertReceiver = WebhookReceiver | EmailReceiver;

/** Resolved settings of `renderAlertmanagerConfig`. */
export interface AlertmanagerSettings {
  /** Every alert goes to each receiver. Default none. */
  readonly receivers: readonly AlertReceiver[];
  /** Default `["alertname", "job"]`. */
  readonly groupBy: readonly string[];
  /** Default `30s`. */
  readonly groupWait: string;
  /** Default `5m`. */
  readonly groupInterval: string;
  /** Default `4h`. */
  readonly repeatInterval: string;
}

/** A receiver as given by a caller: defaults for the optional flags. */
export type AlertReceiverOptions =
  | (Omit<WebhookReceiver, 'sendResolved'> & { readonly sendResolved?: boolean })
  | (Omit<EmailReceiver, 'requireTls' | 'sendResolved'> & {
      readonly requireTls?: boolean;
      readonly sendResolved?: boolean;
    });

/** Partial settings accepted by `resolveAlertmanagerSettings`. */
export type AlertmanagerOptions = Partial<Omit<AlertmanagerSettings, 'receivers'>> & {
  readonly receivers?: readonly AlertReceiverOptions[];
};

/** Defaults. Never mutated. */
export const DEFAULT_ALERTMANAGER_SETTINGS: AlertmanagerSettings = Object.freeze({
  receivers: Object.freeze([]),
  groupBy: Object.freeze(['alertname', 'job']),
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '4h',
});

/** Name of the catch-all receiver that notifies nobody (alerts stay visible in the UI/API). */
export const NULL_RECEIVER = 'null';

const RECEIVER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

function resolveReceiver(r: AlertReceiverOptions, i: number): AlertReceiver {
  const field = `receivers[${i}]`;
  const name = assertMatches(r?.name, `${field}.name`, RECEIVER_NAME, 'a lowercase name like ops-webhook');
  if (name === NULL_RECEIVER) {
    throw new Error(`${field}.name must not be "${NULL_RECEIVER}" (reserved for the catch-all receiver)`);
  }
  if (r.kind === 'webhook') {
    return {
      kind: 'webhook',
      name,
      url: assertHttpUrl(r.url, `${field}.url`),
      ...(r.bearerTokenFile !== undefined
        ? { bearerTokenFile: assertAbsolutePath(r.bearerTokenFile, `${field}.bearerTokenFile`) }
        : {}),
      sendResolved: r.sendResolved ?? true,
    };
  }
  if (r.kind === 'email') {
    if ((r.authUsername === undefined) !== (r.authPasswordFile === undefined)) {
      throw new Error(`${field}: authUsername and authPasswordFile must be given together`);
    }
    return {
      kind: 'email',
      name,
      to: assertMatches(r.to, `${field}.to`, EMAIL, 'an e-mail address'),
      from: assertMatches(r.from, `${field}.from`, EMAIL, 'an e-mail address'),
      smarthost: assertHostPort(r.smarthost, `${field}.smarthost`),
      ...(r.authUsername !== undefined
        ? {
            authUsername: assertText(r.authUsername, `${field}.authUsername`),
            authPasswordFile: assertAbsolutePath(r.authPasswordFile, `${field}.authPasswordFile`),
          }
        : {}),
      requireTls: r.requireTls ?? true,
      sendResolved: r.sendResolved ?? false,
    };
  }
  throw new Error(
    `${field}.kind must be "webhook" or "email" (got ${JSON.stringify((r as { kind?: unknown })?.kind)})`,
  );
}

/** Applies the defaults to `options` and validates; returns a new object. */
export function resolveAlertmanagerSettings(options: AlertmanagerOptions = {}): AlertmanagerSettings {
  const d = DEFAULT_ALERTMANAGER_SETTINGS;
  const receivers = assertArray(options.receivers ?? d.receivers, 'receivers').map(resolveReceiver);
  assertUnique(receivers, (r) => r.name, 'receivers[].name');
  const groupBy = assertArray(options.groupBy ?? d.groupBy, 'groupBy').map((l, i) =>
    assertLabelName(l, `groupBy[${i}]`),
  );
  return {
    receivers,
    groupBy,
    groupWait: assertDuration(options.groupWait ?? d.groupWait, 'groupWait'),
    groupInterval: assertDuration(options.groupInterval ?? d.groupInterval, 'groupInterval'),
    repeatInterval: assertDuration(options.repeatInterval ?? d.repeatInterval, 'repeatInterval'),
  };
}
