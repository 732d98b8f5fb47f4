/** `renderAlertmanagerConfig`: alertmanager.yml from resolved settings. */
import { ALERTS } from '../prometheus/rules';
import { generatedBy, toYaml } from '../prometheus/yaml';
import { type AlertReceiver, type AlertmanagerSettings, NULL_RECEIVER } from './settings';

function receiverConfig(r: AlertReceiver): Record<string, unknown> {
  if (r.kind === 'webhook') {
    return {
      name: r.name,
      webhook_configs: [
        {
          url: r.url,
          send_resolved: r.sendResolved,
          ...(r.bearerTokenFile !== undefined
            ? { http_config: { authorization: { type: 'Bearer', credentials_file: r.bearerTokenFile } } }
            : {}),
        },
      ],
    };
  }
  return {
    name: r.name,
    email_configs: [
      {
        to: r.to,
        from: r.from,
        smarthost: r.smarthost,
        require_tls: r.requireTls,
        send_resolved: r.sendResolved,
        ...(r.authUsername !== undefined
          ? { auth_username: r.authUsername, auth_password_file: r.authPasswordFile }
          : {}),
      },
    ],
  };
}

/**
 * Renders alertmanager.yml: a root route to the `null` receiver, one `continue` child route per
 * configured receiver (so every receiver gets every alert), and inhibition of the generic
 * TargetDown alert while a more specific API-down alert fires for the same instance.
 */
export function renderAlertmanagerConfig(settings: AlertmanagerSettings): string {
  const config = {
    route: {
      receiver: NULL_RECEIVER,
      group_by: [...settings.groupBy],
      group_wait: settings.groupWait,
      group_interval: settings.groupInterval,
      repeat_interval: settings.repeatInterval,
      ...(settings.receivers.length > 0
        ? { routes: settings.receivers.map((r) => ({ receiver: r.name, continue: true })) }
        : {}),
    },
    receivers: [{ name: NULL_RECEIVER }, ...settings.receivers.map(receiverConfig)],
    inhibit_rules: [
      {
        source_matchers: [`alertname=~"${ALERTS.apiV1ReplicaDown}|${ALERTS.apiV2Down}"`],
        target_matchers: [`alertname="${ALERTS.targetDown}"`],
        equal: ['instance'],
      },
    ],
  };
  return toYaml(config, generatedBy('deployments/alertmanager/render.ts'));
}
