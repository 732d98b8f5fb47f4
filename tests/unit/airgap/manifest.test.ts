import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  parseManifest,
  pulumiConfigLines,
  renderManifest,
  STEP_ORDER,
  syncStackConfig,
  type BuiltImage,
  type StepId,
} from '../../../airgap/images/manifest';

const built = (ref: string, extra: Partial<BuiltImage> = {}): BuiltImage => ({
  ref,
  key: 'k'.repeat(64),
  imageId: `sha256:${'i'.repeat(64)}`,
  ...extra,
});

const BUILDS: Partial<Record<StepId, BuiltImage>> = {
  api: built('sentiment-gateway/api:0.1.0-abcdef012345'),
  nodeBase: built('sentiment-gateway/node:20.20.2-bookworm'),
  gatewayMetrics: built('sentiment-gateway/mtail:3.0.0-rc50-1_b6', {
    debianPackage: 'mtail',
    version: '3.0.0~rc50-1+b6',
  }),
  alertmanager: built('sentiment-gateway/alertmanager:0.25.0-1_b4'),
  prometheus: built('sentiment-gateway/prometheus:2.42.0_ds-5_deb12u1'),
  nginxExporter: built('sentiment-gateway/nginx-exporter:0.11.0-1_b4'),
  nginx: built('sentiment-gateway/nginx:1.22.1-9_deb12u11'),
  debianBase: built('sentiment-gateway/debian-base:bookworm-20261202'),
};

describe('pulumiConfigLines', () => {
  test('print one `pulumi config set` line per stack image, in build order', () => {
    const manifest = parseManifest(renderManifest(BUILDS));
    expect(pulumiConfigLines(manifest.images)).toEqual([
      'pulumi config set sentiment-gateway:nginxImage sentiment-gateway/nginx:1.22.1-9_deb12u11',
      'pulumi config set sentiment-gateway:nginxExporterImage sentiment-gateway/nginx-exporter:0.11.0-1_b4',
      'pulumi config set sentiment-gateway:prometheusImage sentiment-gateway/prometheus:2.42.0_ds-5_deb12u1',
      'pulumi config set sentiment-gateway:alertmanagerImage sentiment-gateway/alertmanager:0.25.0-1_b4',
      'pulumi config set sentiment-gateway:gatewayMetricsImage sentiment-gateway/mtail:3.0.0-rc50-1_b6',
      'pulumi config set sentiment-gateway:apiImage sentiment-gateway/api:0.1.0-abcdef012345',
    ]);
  });
});

describe('images.json', () => {
  test('maps each stack image to its ref and records every build in step order', () => {
    const text = renderManifest(BUILDS);
    expect(text.endsWith('}\n')).toBe(true);
    const manifest = parseManifest(text);
    expect(manifest.generatedBy).toBe('npm run airgap:images');
    expect(manifest.images).toEqual({
      nginx: 'sentiment-gateway/nginx:1.22.1-9_deb12u11',
      nginxExporter: 'sentiment-gateway/nginx-exporter:0.11.0-1_b4',
      prometheus: 'sentiment-gateway/prometheus:2.42.0_ds-5_deb12u1',
      alertmanager: 'sentiment-gateway/alertmanager:0.25.0-1_b4',
      gatewayMetrics: 'sentiment-gateway/mtail:3.0.0-rc50-1_b6',
      api: 'sentiment-gateway/api:0.1.0-abcdef012345',
    });
    expect(Object.keys(manifest.builds)).toEqual(STEP_ORDER);
    expect(STEP_ORDER).toEqual([
      'debianBase',
      'nginx',
      'nginxExporter',
      'prometheus',
      'alertmanager',
      'gatewayMetrics',
      'nodeBase',
      'api',
    ]);
    expect(manifest.builds.gatewayMetrics).toEqual(BUILDS.gatewayMetrics);
  });

  test('is not written without every stack image', () => {
    const { api: _api, ...partial } = BUILDS;
    expect(() => renderManifest(partial)).toThrow('images.json: no build recorded for api');
  });

  test.each([
    ['not JSON', '{', /images\.json is not JSON: run `npm run airgap:images`/],
    ['without images', '{"builds":{}}', /has no "images" object/],
    [
      'missing an image',
      JSON.stringify({ images: { nginx: 'a/b:1' }, builds: {} }),
      /has no image ref for nginxExporter/,
    ],
  ])('refuses a file that is %s, saying how to make it', (_rule, text, error) => {
    expect(() => parseManifest(text)).toThrow(error);
  });
});

describe('syncStackConfig', () => {
  const images = parseManifest(renderManifest(BUILDS)).images;
  const stale = [
    '# the air-gapped stack',
    'config:',
    '  sentiment-gateway:grafana: false',
    '  # the API image',
    '  sentiment-gateway:apiImage: sentiment-gateway/api:0.1.0-000000000000',
    '  sentiment-gateway:nginxImage: sentiment-gateway/nginx:1.22.1-9_deb12u11',
    '',
  ].join('\n');

  test('sets every image key to the built image, keeping comments and other keys, and says what changed', () => {
    const synced = syncStackConfig(stale, images);
    expect(synced.changed).toEqual([
      'nginxExporterImage: (unset) -> sentiment-gateway/nginx-exporter:0.11.0-1_b4',
      'prometheusImage: (unset) -> sentiment-gateway/prometheus:2.42.0_ds-5_deb12u1',
      'alertmanagerImage: (unset) -> sentiment-gateway/alertmanager:0.25.0-1_b4',
      'gatewayMetricsImage: (unset) -> sentiment-gateway/mtail:3.0.0-rc50-1_b6',
      'apiImage: sentiment-gateway/api:0.1.0-000000000000 -> sentiment-gateway/api:0.1.0-abcdef012345',
    ]);
    expect(synced.text).toContain('# the air-gapped stack\n');
    expect(synced.text).toContain(
      '  # the API image\n  sentiment-gateway:apiImage: sentiment-gateway/api:0.1.0-abcdef012345\n',
    );
    expect(synced.text).toContain('  sentiment-gateway:grafana: false\n');
    expect(syncStackConfig(synced.text, images)).toEqual({ text: synced.text, changed: [] });
  });

  test('the committed Pulumi.airgap.yaml names every image key the program reads', () => {
    const text = readFileSync(path.join(__dirname, '../../../Pulumi.airgap.yaml'), 'utf8');
    const keys = [...text.matchAll(/sentiment-gateway:(\w+Image):/g)].map((m) => m[1]).sort();
    expect(keys).toEqual([
      'alertmanagerImage',
      'apiImage',
      'gatewayMetricsImage',
      'nginxExporterImage',
      'nginxImage',
      'prometheusImage',
    ]);
  });
});
