/**
 * Uploads into a created container the way the Pulumi docker provider does (`docker.Container`
 * `uploads`: content, permissions, owner, group): a tar with numeric owners, extracted at `/` by
 * `docker cp --archive - <container>:/`. Pure: {@link uploadTar} only builds the bytes.
 */

/** One file to place in a container. */
export interface Upload {
  /** Absolute path in the container. */
  readonly path: string;
  readonly content: string | Buffer;
  /** Permission bits, e.g. 0o444. */
  readonly mode: number;
  /** Numeric owner and group (default 0). */
  readonly uid?: number;
  readonly gid?: number;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  if (Buffer.byteLength(value) > length) throw new Error(`tar field too long: ${JSON.stringify(value)}`);
  header.write(value, offset, length, 'utf8');
}

/** `value` in octal, zero-padded to `digits`, NUL-terminated (ustar numeric fields). */
const octal = (value: number, digits: number) => `${value.toString(8).padStart(digits, '0')}\0`;

/**
 * A POSIX ustar archive of regular files (no directory entries: the engine creates missing parents
 * 0755 root, and existing directories keep their owner and mode, as with the provider's uploads).
 */
export function uploadTar(files: readonly Upload[], mtimeSeconds: number): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    if (!file.path.startsWith('/') || file.path.includes('..')) {
      throw new Error(`upload path must be absolute with no "..": ${JSON.stringify(file.path)}`);
    }
    const name = file.path.slice(1);
    if (Buffer.byteLength(name) > 100) throw new Error(`upload path longer than 100 bytes: ${file.path}`);
    const content = Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content);
    const header = Buffer.alloc(BLOCK);
    field(header, 0, 100, name);
    field(header, 100, 8, octal(file.mode & 0o7777, 7));
    field(header, 108, 8, octal(file.uid ?? 0, 7));
    field(header, 116, 8, octal(file.gid ?? 0, 7));
    field(header, 124, 12, octal(content.length, 11));
    field(header, 136, 12, octal(Math.floor(mtimeSeconds), 11));
    field(header, 148, 8, ' '.repeat(8));
    field(header, 156, 1, '0');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}
