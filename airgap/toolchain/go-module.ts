/**
 * Go module versions and the wrapper go.mod files the toolchain builds from. Pure: no I/O.
 *
 * Every binary is built from a small generated module that requires what it builds at an exact
 * version, so `go` takes each dependency from the module proxy and checks it against go.sum, like
 * any dependency (upstream go.mod files hold local `replace` lines that `go install mod@ver` refuses).
 */

/** A module at an exact version. */
export interface ModuleVersion {
  path: string;
  version: string;
}

/** A commit of a module with no release tag at it: the proxy serves it under a pseudo-version. */
export interface ModuleCommit {
  path: string;
  /** Commit hash (at least the 12 hex digits the pseudo-version keeps). */
  commit: string;
  /** Commit time (UTC, ISO 8601), as `git log --format=%cI` prints it. */
  time: string;
  /** Latest semver tag among the commit's ancestors, if any (`v1.3.1`, `v2.0.0-rc.1`). */
  afterTag?: string;
  /** Major version of the module path (`/vN` suffix), when it has no tag: default 0 (or 1). */
  major?: number;
}

const HASH = /^[0-9a-f]{12,40}$/;
const TAG = /^v(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

/**
 * The pseudo-version Go gives a commit (https://go.dev/ref/mod#pseudo-versions):
 * `vX.0.0-TIME-HASH` with no tag before it, `vX.Y.(Z+1)-0.TIME-HASH` after the release `vX.Y.Z`,
 * `vX.Y.Z-pre.0.TIME-HASH` after the pre-release `vX.Y.Z-pre`.
 *
 * @example pseudoVersion({ path, commit: '96d331c98ff4…', time: '2026-09-16T20:14:41Z' })
 *   // 'v0.0.0-20260916201441-96d331c98ff4'
 */
export function pseudoVersion(c: ModuleCommit): string {
  if (!HASH.test(c.commit)) {
    throw new Error(
      `${c.path}: commit must be 12 to 40 lower-case hex digits (got ${JSON.stringify(c.commit)})`,
    );
  }
  const when = new Date(c.time);
  if (Number.isNaN(when.getTime()) || !/(Z|[+-]\d\d:\d\d)$/.test(c.time)) {
    throw new Error(`${c.path}: commit time must be ISO 8601 with a zone (got ${JSON.stringify(c.time)})`);
  }
  const stamp = when.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const hash = c.commit.slice(0, 12);
  if (c.afterTag === undefined) return `v${c.major ?? 0}.0.0-${stamp}-${hash}`;
  const tag = TAG.exec(c.afterTag);
  if (!tag)
    throw new Error(
      `${c.path}: afterTag must be a semver tag like v1.2.3 (got ${JSON.stringify(c.afterTag)})`,
    );
  const [, major, minor, patch, pre] = tag;
  return pre !== undefined
    ? `${c.afterTag}.0.${stamp}-${hash}`
    : `v${major}.${minor}.${Number(patch) + 1}-0.${stamp}-${hash}`;
}

/** A `replace` line: to a module version, or to a directory of the wrapper (`./shim`). */
export interface Replace {
  from: string;
  to: ModuleVersion | { dir: string };
}

/** What a generated go.mod says. */
export interface GoModSpec {
  /** Module path of the wrapper itself. */
  module: string;
  /** Minimum Go version (the `go` line). */
  go: string;
  /** What it builds and the versions it pins. */
  require: readonly ModuleVersion[];
  replace?: readonly Replace[];
  /** First line, after `// `: who generated it. */
  comment: string;
}

const block = (keyword: string, lines: string[]): string[] =>
  lines.length === 0 ? [] : ['', `${keyword} (`, ...lines.map((l) => `\t${l}`), ')'];

/**
 * The text of a go.mod, sorted like `go mod edit` writes it, so the same spec gives the same bytes.
 *
 * @example renderGoMod({ module: 'x/cli', go: '1.25.11', require: [{ path: 'a/b', version: 'v1.0.0' }], comment: 'Generated.' })
 */
export function renderGoMod(spec: GoModSpec): string {
  const byPath = <T extends { path?: string; from?: string }>(a: T, b: T) =>
    (a.path ?? a.from ?? '').localeCompare(b.path ?? b.from ?? '');
  const requires = [...spec.require].sort(byPath).map((m) => `${m.path} ${m.version}`);
  const replaces = [...(spec.replace ?? [])]
    .sort(byPath)
    .map((r) => `${r.from} => ${'dir' in r.to ? r.to.dir : `${r.to.path} ${r.to.version}`}`);
  return [
    `// ${spec.comment}`,
    `module ${spec.module}`,
    '',
    `go ${spec.go}`,
    ...block('require', requires),
    ...block('replace', replaces),
    '',
  ].join('\n');
}
