import { join, resolve } from 'node:path';
import {
  DEFAULT_API_SETTINGS,
  DEFAULT_MODEL_PATH,
  SettingsError,
  resolveApiSettings,
} from '../../../services/api/src/settings';

const REPO = resolve(__dirname, '../../..');

describe('resolveApiSettings', () => {
  it('serves v1 on 0.0.0.0:8000 with the committed model when nothing is set', () => {
    expect(resolveApiSettings({}, 'host-1')).toEqual({
      port: 8000,
      host: '0.0.0.0',
      variant: 'v1',
      modelPath: join(REPO, 'model', 'sentiment.onnx'),
      replicaId: 'host-1',
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    expect(
      resolveApiSettings({
        PORT: '8001',
        HOST: '127.0.0.1',
        API_VARIANT: 'v2',
        MODEL_PATH: '/models/m.onnx',
        REPLICA_ID: 'api-v2-0',
        LOG_LEVEL: 'warn',
      }),
    ).toEqual({
      port: 8001,
      host: '127.0.0.1',
      variant: 'v2',
      modelPath: '/models/m.onnx',
      replicaId: 'api-v2-0',
      logLevel: 'warn',
    });
  });

  it('accepts PORT=0 (the OS picks a free port) and resolves a relative MODEL_PATH against the working directory', () => {
    const settings = resolveApiSettings({ PORT: '0', MODEL_PATH: 'models/x.onnx' }, 'h');
    expect(settings.port).toBe(0);
    expect(settings.modelPath).toBe(resolve(process.cwd(), 'models/x.onnx'));
  });

  it('returns a new object and leaves the defaults untouched', () => {
    const before = { ...DEFAULT_API_SETTINGS };
    const a = resolveApiSettings({}, 'h');
    a.port = 1;
    expect(resolveApiSettings({}, 'h').port).toBe(8000);
    expect(DEFAULT_API_SETTINGS).toEqual(before);
    expect(Object.isFrozen(DEFAULT_API_SETTINGS)).toBe(true);
  });

  it('points the default model at the repository model/ directory, found from the source file', () => {
    expect(DEFAULT_MODEL_PATH).toBe(join(REPO, 'model', 'sentiment.onnx'));
  });

  it.each([
    [{ PORT: '' }, /PORT must be an integer from 0 to 65535 \(got ""\)/],
    [{ PORT: 'eighty' }, /PORT must be an integer from 0 to 65535 \(got "eighty"\)/],
    [{ PORT: '65536' }, /PORT must be an integer/],
    [{ PORT: '-1' }, /PORT must be an integer/],
    [{ PORT: '80.5' }, /PORT must be an integer/],
    [{ PORT: '0x50' }, /PORT must be an integer/],
    [{ API_VARIANT: 'v3' }, /API_VARIANT must be one of v1, v2 \(got "v3"\)/],
    [{ API_VARIANT: 'V1' }, /API_VARIANT must be one of v1, v2/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ MODEL_PATH: '' }, /MODEL_PATH must be a non-empty path/],
    [{ REPLICA_ID: '' }, /REPLICA_ID must be 1-63 characters/],
    [{ REPLICA_ID: 'api v1' }, /REPLICA_ID must be .* \(got "api v1"\)/],
    [{ REPLICA_ID: '-leading-dash' }, /REPLICA_ID must be/],
    [{ REPLICA_ID: 'x'.repeat(64) }, /REPLICA_ID must be 1-63 characters/],
    [{ HOST: '' }, /HOST must be a host name or IP address/],
    [{ HOST: '127.0.0.1 ' }, /HOST must be a host name or IP address/],
  ])('rejects %j with a message naming the variable and the rule', (env, message) => {
    expect(() => resolveApiSettings(env, 'h')).toThrow(SettingsError);
    expect(() => resolveApiSettings(env, 'h')).toThrow(message);
  });

  it('rejects a host name that is not a valid REPLICA_ID default, saying so', () => {
    expect(() => resolveApiSettings({}, 'bad host')).toThrow(/REPLICA_ID must be/);
  });
});
