import { normalize, tokenize, TOKEN_PATTERN } from '../../../model/src/text';

describe('tokenize', () => {
  test.each([
    ['I love this!', ['i', 'love', 'this', '!']],
    ["Don't STOP me now!!", ["don't", 'stop', 'me', 'now', '!', '!']],
    ['@bob are you ok?', ['@', 'bob', 'are', 'you', 'ok', '?']],
    ['2day was gr8 :-)', ['2day', 'was', 'gr8']],
    ["rock'n'roll 'quoted' words'", ["rock'n'roll", 'quoted', 'words']],
    ['café naïve', ['caf', 'na', 've']],
    ['...', []],
    ['', []],
  ])('%j -> %j', (text, tokens) => {
    expect(tokenize(text)).toEqual(tokens);
  });

  test('the pattern stays ASCII so RE2 (ONNX Runtime) and JavaScript read it the same', () => {
    expect(TOKEN_PATTERN).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('normalize', () => {
  test('lower-cases per code point like glibc towlower (1:1 mappings only)', () => {
    expect(normalize('HeLLo ÀÉÎ')).toBe('hello àéî');
    expect(normalize('İ')).toBe('i');
    expect(normalize('\u212a')).toBe('k');
  });

  test('leaves emoji and other non-letters alone; they never become tokens', () => {
    expect(normalize('OK 😀😀😀')).toBe('ok 😀😀😀');
    expect(tokenize('OK 😀😀😀')).toEqual(['ok']);
    expect(tokenize('😀')).toEqual([]);
  });
});
