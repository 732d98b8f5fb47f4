import { parse } from 'yaml';
import { renderAlertmanagerConfig } from '../../../deployments/alertmanager/render';
import {
  type AlertmanagerOptions,
  resolveAlertmanagerSettings,
} from '../../../deployments/alertmanager/settings';

const render = (options: AlertmanagerOptions = {}) =>
  parse(renderAlertmanagerConfig(resolveAlertmanagerSettings(options)));

describe('renderAlertmanagerConfig', () => {
  test('with no receiver configured, every alert goes to the null receiver (visible in the UI/API only)', () => {
    const config = render();
    expect(config.route).toEqual({
      receiver: 'null',
      group_by: ['alertname', 'job'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
    });
    expect(config.receivers).toEqual([{ name: 'null' }]);
  });

  test('each configured receiver gets every alert through a continue route', () => {
    const config = render({
      receivers: [
        {
          kind: 'webhook',
          name: 'ops',
          url: 'https://hooks.example/a',
          bearerTokenFile: '/run/secrets/hook-token',
        },
        {
          kind: 'email',
          name: 'oncall',
          to: 'oncall@example.org',
          from: 'am@example.org',
          smarthost: 'smtp.example.org:587',
          authUsername: 'am',
          authPasswordFile: '/run/secrets/smtp-password',
        },
      ],
    });
    expect(config.route.receiver).toBe('null');
    expect(config.route.routes).toEqual([
      { receiver: 'ops', continue: true },
      { receiver: 'oncall', continue: true },
    ]);
    expect(config.receivers).toEqual([
      { name: 'null' },
      {
        name: 'ops',
        webhook_configs: [
          {
            url: 'https://hooks.example/a',
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: '/run/secrets/hook-token' } },
          },
        ],
      },
      {
        name: 'oncall',
        email_configs: [
          {
            to: 'oncall@example.org',
            from: 'am@example.org',
            smarthost: 'smtp.example.org:587',
            require_tls: true,
            send_resolved: false,
            auth_username: 'am',
            auth_password_file: '/run/secrets/smtp-password',
          },
        ],
      },
    ]);
  });

  test('secrets are referenced by file only: no password or token field is ever rendered', () => {
    const text = renderAlertmanagerConfig(
      resolveAlertmanagerSettings({
        receivers: [
          {
            kind: 'email',
            name: 'm',
            to: 'a@b.c',
            from: 'c@d.e',
            smarthost: 's:25',
            authUsername: 'u',
            authPasswordFile: '/p',
          },
        ],
      }),
    );
    expect(text).not.toMatch(/auth_password:|auth_secret:|credentials:|bearer_token:/);
  });

  test('a specific API-down alert inhibits the generic TargetDown for the same instance', () => {
    expect(render().inhibit_rules).toEqual([
      {
        source_matchers: ['alertname=~"ApiV1ReplicaDown|ApiV2Down"'],
        target_matchers: ['alertname="TargetDown"'],
        equal: ['instance'],
      },
    ]);
  });
});
