import { MAX_BATCH_SIZE, MAX_SENTENCE_CHARS, parsePredictRequest } from '../../../services/api/src/schemas';

describe('parsePredictRequest', () => {
  it('accepts one sentence and keeps it unchanged (no trimming)', () => {
    expect(parsePredictRequest({ sentence: '  I love this!  ' })).toEqual({
      ok: true,
      input: { sentences: ['  I love this!  '], batch: false },
    });
  });

  it('accepts a batch of 1 and of the maximum size, and ignores unknown fields', () => {
    const full = Array.from({ length: MAX_BATCH_SIZE }, (_, i) => `sentence ${i}`);
    expect(parsePredictRequest({ sentences: ['one'], extra: true })).toEqual({
      ok: true,
      input: { sentences: ['one'], batch: true },
    });
    expect(parsePredictRequest({ sentences: full })).toEqual({
      ok: true,
      input: { sentences: full, batch: true },
    });
  });

  it(`accepts exactly ${MAX_SENTENCE_CHARS} characters, counting an emoji as one character`, () => {
    expect(parsePredictRequest({ sentence: 'a'.repeat(MAX_SENTENCE_CHARS) }).ok).toBe(true);
    expect(parsePredictRequest({ sentence: '😀'.repeat(MAX_SENTENCE_CHARS) }).ok).toBe(true);
  });

  it.each([
    ['a missing sentence', {}, 'missing_field', 'sentence', /^sentence is required$/],
    ['a null sentence', { sentence: null }, 'invalid_type', 'sentence', /^sentence must be a string$/],
    ['a numeric sentence', { sentence: 42 }, 'invalid_type', 'sentence', /must be a string/],
    ['an array as sentence', { sentence: ['a'] }, 'invalid_type', 'sentence', /must be a string/],
    [
      'an empty sentence',
      { sentence: '' },
      'empty_value',
      'sentence',
      /must not be empty or whitespace-only/,
    ],
    ['a whitespace sentence', { sentence: ' \t\n\u00a0' }, 'empty_value', 'sentence', /whitespace-only/],
    [
      'a sentence one character too long',
      { sentence: 'a'.repeat(MAX_SENTENCE_CHARS + 1) },
      'too_long',
      'sentence',
      /^sentence must be at most 5000 characters \(got 5001\)$/,
    ],
    ['a JSON array body', [{ sentence: 'x' }], 'invalid_type', 'body', /must be a JSON object/],
    ['a JSON string body', 'I love this', 'invalid_type', 'body', /must be a JSON object/],
    ['a JSON null body', null, 'invalid_type', 'body', /must be a JSON object/],
    ['both forms at once', { sentence: 'a', sentences: ['b'] }, 'conflicting_fields', 'sentences', /either/],
    ['a non-array batch', { sentences: 'abc' }, 'invalid_type', 'sentences', /^sentences must be an array$/],
    ['an empty batch', { sentences: [] }, 'invalid_batch_size', 'sentences', /1 to 64 sentences \(got 0\)/],
    [
      'a batch over the maximum',
      { sentences: Array.from({ length: MAX_BATCH_SIZE + 1 }, () => 'x') },
      'invalid_batch_size',
      'sentences',
      /1 to 64 sentences \(got 65\)/,
    ],
    [
      'a non-string batch item',
      { sentences: ['ok', 7] },
      'invalid_type',
      'sentences[1]',
      /sentences\[1\] must be a string/,
    ],
    [
      'a blank batch item',
      { sentences: ['ok', 'fine', '   '] },
      'empty_value',
      'sentences[2]',
      /sentences\[2\]/,
    ],
    [
      'an overlong batch item',
      { sentences: ['x'.repeat(MAX_SENTENCE_CHARS + 10)] },
      'too_long',
      'sentences[0]',
      /got 5010/,
    ],
  ])('rejects %s with code and field', (_case, body, code, field, message) => {
    const result = parsePredictRequest(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.error).toEqual({ code, field, message: expect.stringMatching(message) });
  });
});
