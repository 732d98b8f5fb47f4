import {
  cacheKey,
  contextDigest,
  dockerignoreAllowList,
  integrityOf,
  KEY_LABEL,
  sha256,
} from '../../../airgap/images/keys';

describe('cacheKey', () => {
  test('is a fixed sha256 of the schema, the step and the inputs sorted by name', () => {
    const key = cacheKey('nginx', { dockerfile: 'FROM x\n', base: 'b'.repeat(64), package: 'nginx' });
    expect(key).toBe(
      sha256(
        JSON.stringify([
          1,
          'nginx',
          [
            ['base', 'b'.repeat(64)],
            ['dockerfile', 'FROM x\n'],
            ['package', 'nginx'],
          ],
        ]),
      ),
    );
    expect(key).toMatch(/^[a-f0-9]{64}$/);
    // Input order does not matter.
    expect(cacheKey('nginx', { package: 'nginx', base: 'b'.repeat(64), dockerfile: 'FROM x\n' })).toBe(key);
  });

  test('changes with any input, the step name, or the parent key', () => {
    const inputs = { dockerfile: 'FROM x\n', base: 'a'.repeat(64) };
    const key = cacheKey('nginx', inputs);
    const others = [
      cacheKey('nginx', { ...inputs, dockerfile: 'FROM x \n' }),
      cacheKey('nginx', { ...inputs, base: 'c'.repeat(64) }),
      cacheKey('prometheus', inputs),
      cacheKey('nginx', { ...inputs, extra: '' }),
    ];
    expect(new Set([key, ...others]).size).toBe(5);
  });

  test('cannot be confused by moving text between inputs', () => {
    expect(cacheKey('s', { a: 'xy', b: '' })).not.toBe(cacheKey('s', { a: 'x', b: 'y' }));
  });

  test('is carried in a namespaced label', () => {
    expect(KEY_LABEL).toBe('org.sentiment-gateway.airgap.key');
  });
});

describe('contextDigest', () => {
  const files = [
    { path: 'package.json', sha256: '1'.repeat(64) },
    { path: 'services/api/src/app.ts', sha256: '2'.repeat(64) },
  ];

  test('does not depend on the walk order, and sees a content or a path change', () => {
    const digest = contextDigest(files);
    expect(digest).toBe(
      sha256(`package.json\0${'1'.repeat(64)}\nservices/api/src/app.ts\0${'2'.repeat(64)}\n`),
    );
    expect(contextDigest([...files].reverse())).toBe(digest);
    expect(contextDigest([files[0]!, { ...files[1]!, sha256: '3'.repeat(64) }])).not.toBe(digest);
    expect(contextDigest([files[0]!, { ...files[1]!, path: 'services/api/src/app2.ts' }])).not.toBe(digest);
  });
});

describe('dockerignoreAllowList', () => {
  test('lists the allowed paths of an allow-list .dockerignore', () => {
    const text = '# comment\n*\n!package.json\n!services/api/src/\n\n!model/sentiment.onnx\n';
    expect(dockerignoreAllowList(text)).toEqual(['package.json', 'services/api/src', 'model/sentiment.onnx']);
  });

  test.each([
    ['no leading *', '!package.json\n', /must start with "\*"/],
    ['a wildcard', '*\n!services/*.json\n', /is not a plain "!path" entry/],
    ['an exclusion', '*\nnode_modules\n', /is not a plain "!path" entry/],
    ['a parent path', '*\n!../secrets\n', /is not a plain "!path" entry/],
  ])('refuses %s rather than guess', (_rule, text, error) => {
    expect(() => dockerignoreAllowList(text)).toThrow(error);
  });
});

describe('integrityOf', () => {
  test("is npm's sha512 integrity string", () => {
    expect(integrityOf(Buffer.from('abc'))).toBe(
      'sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==',
    );
  });
});
