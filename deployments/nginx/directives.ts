/**
 * A small data -> nginx text serializer, and the one escape hatch for values placed in the config.
 *
 * Section builders return `NginxNode[]`; only `toNginx()` writes indentation, `;` and `{}`. Every
 * argument is checked once more here, so a builder cannot emit a bare `;`, `{` or newline by mistake.
 */

/** One directive or block argument, already a safe nginx token (see `quote`, `assertToken`). */
export type NginxArg = string;

/** `name arg1 arg2;` */
export interface Directive {
  readonly kind: 'directive';
  readonly name: string;
  readonly args: readonly NginxArg[];
}

/** `name args { children }` */
export interface Block {
  readonly kind: 'block';
  readonly name: string;
  readonly args: readonly NginxArg[];
  readonly children: readonly NginxNode[];
}

/** `# text`: why-comments only. */
export interface Comment {
  readonly kind: 'comment';
  readonly text: string;
}

/** `key value;` inside `map`, `split_clients` and `geo` blocks, where the key is not a directive name. */
export interface Entry {
  readonly kind: 'entry';
  readonly key: NginxArg;
  readonly value: NginxArg;
}

/** An empty line between sections. */
export interface Blank {
  readonly kind: 'blank';
}

export type NginxNode = Directive | Block | Entry | Comment | Blank;

/** A rule a config value must follow, with the description used in error messages. */
export interface TokenRule {
  readonly pattern: RegExp;
  readonly description: string;
}

const NAME = /^[a-z_][a-z0-9_]*$/;
// A bare argument: no whitespace, quotes, `;`, `{`, `}`, `#` or backslash.
const BARE_ARG = /^[^\s;{}"'#\\]+$/;
// A double-quoted argument whose inner quotes and backslashes are escaped, with no control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const QUOTED_ARG = /^"(?:[^"\\\u0000-\u001f\u007f]|\\["\\n])*"$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True if `value` holds a control character (line breaks included). */
export function hasControlChars(value: string): boolean {
  return CONTROL.test(value);
}

/** `name args;` */
export function directive(name: string, ...args: NginxArg[]): Directive {
  return { kind: 'directive', name, args };
}

/** `name args { children }` */
export function block(name: string, args: NginxArg[], children: NginxNode[]): Block {
  return { kind: 'block', name, args, children };
}

/** `key value;` inside a `map`-like block. */
export function entry(key: NginxArg, value: NginxArg): Entry {
  return { kind: 'entry', key, value };
}

/** `# text` */
export function comment(text: string): Comment {
  return { kind: 'comment', text };
}

/** An empty line. */
export const blank: Blank = { kind: 'blank' };

function escapeQuoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Quotes a config-supplied value (path, header value, name) as one nginx string argument.
 *
 * `;`, `{`, `}`, `#` and quotes are harmless inside the quotes (`"` and `\` are escaped). Control
 * characters (newlines included) are rejected, and so is `$`: nginx has no escape for it and would
 * interpolate a variable in most directives.
 */
export function quote(value: string, field = 'value'): NginxArg {
  if (value.length === 0) {
    throw new Error(`${field} must not be empty`);
  }
  if (CONTROL.test(value)) {
    throw new Error(
      `${field} must not contain control characters or line breaks (got ${JSON.stringify(value)})`,
    );
  }
  if (value.includes('$')) {
    throw new Error(
      `${field} must not contain "$", which nginx would read as a variable (got ${JSON.stringify(value)})`,
    );
  }
  return escapeQuoted(value);
}

/**
 * Quotes a string written in this code base that interpolates nginx variables (log formats, JSON
 * bodies). Never for settings: those go through `quote` or `assertToken`.
 */
export function template(text: string): NginxArg {
  if (CONTROL.test(text)) {
    throw new Error(`template must not contain control characters (got ${JSON.stringify(text)})`);
  }
  return escapeQuoted(text);
}

/** Returns `value` unchanged if it follows `rule`, else throws naming `field` and the rule. */
export function assertToken(value: string, field: string, rule: TokenRule): NginxArg {
  if (
    typeof value !== 'string' ||
    !rule.pattern.test(value) ||
    !BARE_ARG.test(value) ||
    value.includes('$')
  ) {
    throw new Error(`${field} must be ${rule.description} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function assertArg(arg: NginxArg, where: string): void {
  if (!BARE_ARG.test(arg) && !QUOTED_ARG.test(arg)) {
    throw new Error(`unsafe nginx argument in ${where}: ${JSON.stringify(arg)}`);
  }
}

function line(depth: number, text: string): string {
  return `${'    '.repeat(depth)}${text}`;
}

function nodeLines(node: NginxNode, depth: number): string[] {
  switch (node.kind) {
    case 'blank':
      return [''];
    case 'comment':
      if (CONTROL.test(node.text)) {
        throw new Error(`comment must be one line (got ${JSON.stringify(node.text)})`);
      }
      return [line(depth, `# ${node.text}`)];
    case 'entry':
      assertArg(node.key, 'map entry');
      assertArg(node.value, 'map entry');
      return [line(depth, `${node.key} ${node.value};`)];
    case 'directive':
    case 'block': {
      if (!NAME.test(node.name)) {
        throw new Error(`invalid nginx directive name ${JSON.stringify(node.name)}`);
      }
      node.args.forEach((arg) => assertArg(arg, node.name));
      const head = [node.name, ...node.args].join(' ');
      if (node.kind === 'directive') {
        return [line(depth, `${head};`)];
      }
      return [
        line(depth, `${head} {`),
        ...node.children.flatMap((child) => nodeLines(child, depth + 1)),
        line(depth, '}'),
      ];
    }
  }
}

/** Serializes nodes to nginx text: 4-space indentation, one directive per line, trailing newline. */
export function toNginx(nodes: readonly NginxNode[]): string {
  return `${nodes.flatMap((node) => nodeLines(node, 0)).join('\n')}\n`;
}
