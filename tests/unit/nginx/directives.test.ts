import {
  assertToken,
  blank,
  block,
  comment,
  directive,
  entry,
  quote,
  template,
  toNginx,
} from '../../../deployments/nginx/directives';

const PORT_RULE = { pattern: /^\d{1,5}$/, description: 'a port number' };

describe('toNginx', () => {
  test('owns indentation, semicolons and braces', () => {
    const text = toNginx([
      comment('why'),
      directive('worker_processes', 'auto'),
      blank,
      block(
        'http',
        [],
        [
          block('map', ['$a', '$b'], [entry('default', quote('x y'))]),
          block('server', [], [directive('listen', '8443', 'ssl')]),
        ],
      ),
    ]);
    expect(text).toBe(
      [
        '# why',
        'worker_processes auto;',
        '',
        'http {',
        '    map $a $b {',
        '        default "x y";',
        '    }',
        '    server {',
        '        listen 8443 ssl;',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  test.each([
    ['a bare argument with ";"', directive('listen', '8443;')],
    ['a bare argument with "{"', directive('listen', '{')],
    ['a bare argument with a space', directive('server_name', 'a b')],
    ['a bare argument with a newline', directive('server_name', 'a\nb')],
    ['an unterminated quoted argument', directive('root', '"/srv')],
    ['a quoted argument with a raw inner quote', directive('root', '"/a"b"')],
    ['a bad directive name', directive('listen;', '80')],
    ['a map key with ";"', entry('a;b', 'c')],
    ['a multi-line comment', comment('one\ntwo')],
  ])('refuses to write %s', (_, node) => {
    expect(() => toNginx([node])).toThrow(/unsafe nginx argument|invalid nginx directive name|one line/);
  });
});

describe('quote (the escape hatch for config-supplied values)', () => {
  test.each([
    ['semicolon', '/srv/a;b', '"/srv/a;b"'],
    ['pair of braces', '/srv/{a}', '"/srv/{a}"'],
    ['double quote', 'realm "x"', String.raw`"realm \"x\""`],
    ['single quote', "it's", `"it's"`],
    ['backslash', String.raw`a\b`, String.raw`"a\\b"`],
    ['hash', 'a#b', '"a#b"'],
  ])('keeps a value with a %s inside one quoted argument', (_, value, expected) => {
    const arg = quote(value);
    expect(arg).toBe(expected);
    // The serializer accepts it as a single argument: the directive cannot be split or closed early.
    expect(toNginx([directive('root', arg)])).toBe(`root ${expected};\n`);
  });

  test.each([
    ['a newline', '/srv\n}\nserver {', /control characters or line breaks/],
    ['a carriage return', 'a\rb', /control characters or line breaks/],
    ['a NUL byte', 'a\u0000b', /control characters or line breaks/],
    ['a variable', '/srv/$host', /must not contain "\$"/],
    ['nothing', '', /must not be empty/],
  ])('rejects a value with %s, naming the field', (_, value, error) => {
    expect(() => quote(value, 'certificatePath')).toThrow(error);
    expect(() => quote(value, 'certificatePath')).toThrow(/certificatePath/);
  });
});

describe('assertToken', () => {
  test('returns a value that follows the rule', () => {
    expect(assertToken('8443', 'httpsListen', PORT_RULE)).toBe('8443');
  });

  test.each(['8443;', '8443 }', '84{43', '8443\n', '"8443"', '$port', ''])(
    'rejects the hostile value %j with the field and the rule',
    (value) => {
      expect(() => assertToken(value, 'httpsListen', PORT_RULE)).toThrow(
        /^httpsListen must be a port number \(got .*\)$/s,
      );
    },
  );

  test('rejects "$" and separators even when a loose rule lets them through', () => {
    const loose = { pattern: /.*/s, description: 'anything' };
    for (const value of ['a$b', 'a;b', 'a{b', 'a}b', 'a\nb', 'a"b', "a'b", 'a b']) {
      expect(() => assertToken(value, 'field', loose)).toThrow(/field must be anything/);
    }
  });
});

describe('template (trusted strings with nginx variables)', () => {
  test('escapes quotes and keeps variables', () => {
    expect(template('{"id":"$req_id"}')).toBe(String.raw`"{\"id\":\"$req_id\"}"`);
  });

  test('rejects line breaks', () => {
    expect(() => template('a\nb')).toThrow(/control characters/);
  });
});
