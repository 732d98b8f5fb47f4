import { uploadTar } from '../../airgap/uploads';

describe('uploadTar', () => {
  const tar = uploadTar(
    [
      { path: '/etc/nginx/auth/htpasswd', content: 'api:{SSHA}x\n', mode: 0o440, gid: 101 },
      { path: '/etc/nginx/nginx.conf', content: 'x'.repeat(512), mode: 0o444 },
    ],
    1_700_000_000,
  );
  const text = (offset: number, length: number) => tar.subarray(offset, offset + length).toString('latin1');

  test('writes one ustar header per file with path, mode, owner, size and mtime', () => {
    expect(text(0, 100).replace(/\0+$/, '')).toBe('etc/nginx/auth/htpasswd');
    expect(text(100, 8)).toBe('0000440\0');
    expect(text(108, 8)).toBe('0000000\0');
    expect(text(116, 8)).toBe('0000145\0');
    expect(text(124, 12)).toBe('00000000014\0');
    expect(text(136, 12)).toBe(`${(1_700_000_000).toString(8)}\0`);
    expect(text(156, 1)).toBe('0');
    expect(text(257, 8)).toBe('ustar\x0000');
    expect(text(512, 12)).toBe('api:{SSHA}x\n');
  });

  test('has a valid header checksum (the sum of the header bytes, the checksum field as spaces)', () => {
    const header = Buffer.from(tar.subarray(0, 512));
    const stored = parseInt(text(148, 6), 8);
    header.fill(' ', 148, 156);
    expect(header.reduce((sum, byte) => sum + byte, 0)).toBe(stored);
  });

  test('pads each file to 512-byte blocks and ends with two zero blocks', () => {
    // header + 1 data block, header + 1 data block (exactly 512 bytes: no padding), 2 end blocks.
    expect(tar.length).toBe(512 * 6);
    expect(text(1024, 100).replace(/\0+$/, '')).toBe('etc/nginx/nginx.conf');
    expect(tar.subarray(512 * 4).every((b) => b === 0)).toBe(true);
  });

  test.each([
    ['a relative path', 'etc/x', /must be absolute/],
    ['a parent reference', '/etc/../x', /must be absolute with no "\.\."/],
    ['a path over 100 bytes', `/${'a'.repeat(101)}`, /longer than 100 bytes/],
  ])('refuses %s', (_rule, path, error) => {
    expect(() => uploadTar([{ path, content: '', mode: 0o444 }], 0)).toThrow(error);
  });
});
