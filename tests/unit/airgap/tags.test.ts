import { resolveSettings } from '../../../infra/settings';
import {
  apiTag,
  baseTag,
  debianVersionTag,
  DOCKER_TAG,
  imageRef,
  nodeTag,
} from '../../../airgap/images/tags';

describe('debianVersionTag', () => {
  test.each([
    // The bookworm versions the images are built from (apt-cache policy, 2026-12).
    ['1.22.1-9+deb12u11', '1.22.1-9_deb12u11'],
    ['0.11.0-1+b4', '0.11.0-1_b4'],
    ['2.42.0+ds-5+deb12u1', '2.42.0_ds-5_deb12u1'],
    ['0.25.0-1+b4', '0.25.0-1_b4'],
    ['3.0.0~rc50-1+b6', '3.0.0-rc50-1_b6'],
    // An epoch: busybox is 1:1.35.0-4+deb12u1+b1.
    ['1:1.35.0-4+deb12u1+b1', '1_1.35.0-4_deb12u1_b1'],
    ['20.20.2', '20.20.2'],
  ])('maps %s to the Docker tag %s', (version, tag) => {
    expect(debianVersionTag(version)).toBe(tag);
    expect(tag).toMatch(DOCKER_TAG);
  });

  test.each([
    ['empty', ''],
    ['not starting with a digit', 'v1.0'],
    ['a space', '1.0 2'],
    ['a slash', '1.0/2'],
    ['a newline', '1.0\n'],
  ])('refuses a version with %s', (_rule, version) => {
    expect(() => debianVersionTag(version)).toThrow(/Debian version must start with a digit/);
  });

  test('refuses a version too long for a tag (128 characters at most)', () => {
    expect(() => debianVersionTag(`1.${'0'.repeat(127)}`)).toThrow(/does not make a Docker tag/);
    expect(debianVersionTag(`1.${'0'.repeat(126)}`)).toHaveLength(128);
  });
});

describe('image refs', () => {
  test('are repository/name:tag, and refuse latest or an invalid tag', () => {
    expect(imageRef('sentiment-gateway', 'nginx', '1.22.1-9_deb12u11')).toBe(
      'sentiment-gateway/nginx:1.22.1-9_deb12u11',
    );
    expect(() => imageRef('sentiment-gateway', 'nginx', 'latest')).toThrow(/not be latest/);
    expect(() => imageRef('sentiment-gateway', 'nginx', '1.0+b1')).toThrow(/image tag must match/);
  });

  test('name the bases and the API', () => {
    expect(baseTag('bookworm', new Date('2026-12-02T04:30:00Z'))).toBe('bookworm-20261202');
    expect(nodeTag('20.20.2', 'bookworm')).toBe('20.20.2-bookworm');
    expect(apiTag('0.1.0', 'ab12cd34ef56'.padEnd(64, '0'))).toBe('0.1.0-ab12cd34ef56');
    expect(() => apiTag('0.1.0', 'xyz')).toThrow(/cache key must be 64 hex digits/);
    expect(() => apiTag('0.1.0+build', '0'.repeat(64))).toThrow(/does not make a Docker tag/);
  });

  test('pass the stack settings validation (infra/settings.ts IMAGE_REF, never latest)', () => {
    const refs = [
      imageRef('sentiment-gateway', 'nginx', debianVersionTag('1.22.1-9+deb12u11')),
      imageRef('sentiment-gateway', 'mtail', debianVersionTag('3.0.0~rc50-1+b6')),
      imageRef('sentiment-gateway', 'nginx-exporter', debianVersionTag('0.11.0-1+b4')),
      imageRef('sentiment-gateway', 'prometheus', debianVersionTag('2.42.0+ds-5+deb12u1')),
      imageRef('sentiment-gateway', 'alertmanager', debianVersionTag('1:0.25.0-1+b4')),
      imageRef('sentiment-gateway', 'node', nodeTag('20.20.2', 'bookworm')),
      imageRef('sentiment-gateway', 'debian-base', baseTag('bookworm', new Date('2026-12-02T00:00:00Z'))),
      imageRef('sentiment-gateway', 'api', apiTag('0.1.0', 'f'.repeat(64))),
    ];
    for (const ref of refs) {
      // Every image field runs through the same validator; nginx stands in for all of them.
      expect(resolveSettings({ images: { nginx: ref } }).images.nginx).toBe(ref);
      expect(resolveSettings({ apiImage: ref }).apiImage).toBe(ref);
    }
  });
});
