/**
 * Where the air-gapped builds keep what they made: outside the checkout, so every clone on a
 * machine (CI works in a fresh one each run) reuses the same toolchain and images.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * The cache root: `$SENTIMENT_GATEWAY_CACHE` when set, else `sentiment-gateway/airgap` under
 * `$XDG_CACHE_HOME` (default `~/.cache`), as `go` keeps its build cache.
 *
 * @example airgapCacheRoot({}, '/root') // '/root/.cache/sentiment-gateway/airgap'
 */
export function airgapCacheRoot(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.SENTIMENT_GATEWAY_CACHE) return path.resolve(env.SENTIMENT_GATEWAY_CACHE);
  const xdg =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : path.join(home, '.cache');
  return path.join(xdg, 'sentiment-gateway', 'airgap');
}
