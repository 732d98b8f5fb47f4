import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * `pulumi up` compiles index.ts with its own loader (vendored ts-node 7 + the project's TypeScript),
 * not with swc as jest does: a tsconfig or syntax it can't handle fails only there. This loads the
 * program through that loader, type-checking on. Not proven: the Pulumi CLI and engine themselves.
 */
test('index.ts loads and type-checks under the loader pulumi up uses', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, 'pulumi-loader.cjs')], {
    timeout: 150_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
    typescript: string;
    tsnode: string;
    registered: number;
  };
  expect(result.tsnode).toMatch(/ts-node@7/);
  expect(result.typescript).toMatch(/^5\./);
  // The default stack: the same 41 resources the mock tests list.
  expect(result.registered).toBe(41);
}, 180_000);
