/**
 * Jest environment for tests that load onnxruntime-node.
 *
 * The native binding returns typed arrays of Node's own realm, while onnxruntime-common checks them with
 * `instanceof` against the test sandbox's constructors, which differ ("A float32 tensor's data must be
 * type of Float32Array"). Sharing the real constructors with the sandbox makes both realms agree.
 * Use with a `@jest-environment ./tests/unit/api/onnx-environment.ts` docblock.
 */
import { TestEnvironment } from 'jest-environment-node';

const TYPED_ARRAYS = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

export default class OnnxEnvironment extends TestEnvironment {
  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    const sandbox = this.global as unknown as Record<string, unknown>;
    for (const name of TYPED_ARRAYS) sandbox[name] = globalThis[name];
  }
}
