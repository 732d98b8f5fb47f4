/**
 * Loads index.ts the way `pulumi up` does (@pulumi/pulumi cmd/run): Pulumi's vendored ts-node with
 * the project's TypeScript and tsconfig, type-checking on; resources are mocked. Prints the number
 * of resources registered. Run by tests/infra/pulumi-loader.test.ts in a child process.
 */
/* global __dirname, process, console */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node directly */
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
process.chdir(root);
const pulumiDir = path.dirname(require.resolve('@pulumi/pulumi/package.json', { paths: [root] }));
const tsutils = require(path.join(pulumiDir, 'tsutils.js'));
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions('tsconfig.json');
// Same registration options as cmd/run/run.js (non-ESM branch).
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: undefined,
  project: 'tsconfig.json',
  skipProject: false,
  compilerOptions: {
    target: 'ES2020',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    sourceMap: 'true',
    ...compilerOptions,
  },
});

const pulumi = require(require.resolve('@pulumi/pulumi', { paths: [root] }));
let registered = 0;
const computed = {
  repoDigest: 'sha256:0',
  imageId: 'sha256:1',
  result: 'Loader0123456789abcdefghijklmnop',
  base64: 'AAAAAAAAAAAAAAAAAAAAAA==',
  privateKeyPem: 'key',
  certPem: 'cert',
  certRequestPem: 'csr',
};
pulumi.runtime
  .setMocks(
    {
      newResource: (args) => {
        registered += 1;
        return { id: args.name, state: { ...args.inputs, ...computed } };
      },
      call: (args) => args.inputs,
    },
    'sentiment-gateway',
    'dev',
    false,
  )
  .then(async () => {
    require(path.join(root, 'index.ts'));
    await pulumi.runtime.disconnect();
    console.log(
      JSON.stringify({ typescript: require(typescriptRequire).version, tsnode: tsnodeRequire, registered }),
    );
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
