/**
 * One-line causes for what `go` prints when a toolchain step fails. Pure: the runner passes the
 * output in and prints the message.
 */

/** Which step failed: fetching the wrapper's dependencies, or compiling. */
export type GoStep = 'download' | 'build';

const PROXY_REFUSAL = /(\S+@\S+): reading (\S+): (\d{3} [^\n]*)(?:\n\s*server response: ([^\n]+))?/;
const UNREACHABLE =
  /(dial tcp[^\n]*|no such host[^\n]*|connection refused[^\n]*|i\/o timeout[^\n]*|TLS handshake timeout[^\n]*)/;
const CHECKSUM = /verifying (\S+@\S+)[^\n]*: (checksum mismatch|[^\n]*)/;
const UNKNOWN_REVISION = /(\S+@\S+): (invalid version|unknown revision)[^\n]*/;
const COMPILER = /^(?:#\s.*|\S+\.go:\d+:\d+: .*|.*: (?:undefined|cannot use|missing) .*)$/gm;

/**
 * The message for a failed step of `binary`, built from `module` (what it is built from), naming
 * the module and the cause.
 *
 * @example goFailure('download', 'pulumi-resource-tls', 'github.com/x/y@v1', output)
 *   // 'pulumi-resource-tls: the Go module proxy does not serve github.com/a/b@v2 (403 Forbidden: ...)'
 */
export function goFailure(step: GoStep, binary: string, module: string, output: string): string {
  const refused = PROXY_REFUSAL.exec(output);
  if (refused) {
    const [, mod, url, status, response] = refused;
    const origin = url!.replace(/^(https?:\/\/[^/]+).*$/, '$1');
    return `${binary}: the Go module proxy (${origin}) does not serve ${mod} (${status}${response ? `: ${response.trim()}` : ''})`;
  }
  const unreachable = UNREACHABLE.exec(output);
  if (unreachable) {
    return `${binary}: the Go module proxy cannot be reached while fetching the modules of ${module} (${unreachable[1]!.trim()}); check GOPROXY and the network`;
  }
  const checksum = CHECKSUM.exec(output);
  if (checksum) return `${binary}: ${checksum[1]} failed its checksum check (${checksum[2]!.trim()})`;
  const revision = UNKNOWN_REVISION.exec(output);
  if (revision) return `${binary}: ${revision[0].trim()}`;
  if (step === 'build') {
    const errors = (output.match(COMPILER) ?? []).slice(0, 6);
    const detail = errors.length > 0 ? errors.join('\n  ') : lastLines(output, 6);
    return `${binary}: compiling ${module} failed:\n  ${detail}`;
  }
  return `${binary}: fetching the modules of ${module} failed:\n  ${lastLines(output, 6)}`;
}

function lastLines(text: string, n: number): string {
  const lines = text.trim().split('\n');
  return lines.slice(-n).join('\n  ') || '(no output)';
}
