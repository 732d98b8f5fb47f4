import { fitVocabulary, ngrams, termIndex, toCsr, vectorize } from '../../../model/src/features';

const docs = [
  ['i', 'love', 'it'],
  ['i', 'love', 'you'],
  ['so', 'sad'],
  ['i', 'am', 'so', 'sad', 'PAD'],
];

describe('fitVocabulary', () => {
  test('keeps n-grams with df >= minDf, unigrams first, most frequent first, idf smoothed', () => {
    const vocab = fitVocabulary(docs, { minDf: 2, maxFeatures: 100, ngramMax: 2 });
    expect(vocab.terms).toEqual(['i', 'love', 'sad', 'so', 'i love', 'so sad']);
    expect(vocab.unigramCount).toBe(4);
    // idf = ln((1 + n) / (1 + df)) + 1 with n = 4
    expect(vocab.idf[0]).toBeCloseTo(Math.log(5 / 4) + 1, 12);
    expect(vocab.idf[1]).toBeCloseTo(Math.log(5 / 3) + 1, 12);
  });

  test('caps the vocabulary by document frequency and never admits upper-case (pad/error) tokens', () => {
    const vocab = fitVocabulary(docs, { minDf: 1, maxFeatures: 3, ngramMax: 2 });
    expect(vocab.terms).toEqual(['i', 'love', 'i love']);
    const all = fitVocabulary(docs, { minDf: 1, maxFeatures: 1000, ngramMax: 2 });
    expect(all.terms.some((t) => /[A-Z]/.test(t))).toBe(false);
  });
});

describe('vectorize', () => {
  const vocab = fitVocabulary(docs, { minDf: 1, maxFeatures: 1000, ngramMax: 2 });
  const index = termIndex(vocab);

  test('counts repeated n-grams (raw tf x idf) and L2-normalises the row', () => {
    const { indices, values } = vectorize(['sad', 'sad'], index, vocab, 2);
    expect(indices).toEqual([index.get('sad')]);
    expect(values[0]).toBeCloseTo(1, 12);
    const two = vectorize(['so', 'sad'], index, vocab, 2);
    expect(two.values.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
    expect(two.indices).toHaveLength(3);
  });

  test('returns an empty row when no n-gram is known', () => {
    expect(vectorize(['zebra'], index, vocab, 2)).toEqual({ indices: [], values: [] });
  });

  test('ngrams lists unigrams then adjacent bigrams', () => {
    expect(ngrams(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    expect(ngrams(['a', 'b'], 1)).toEqual(['a', 'b']);
  });

  test('toCsr stacks rows', () => {
    const x = toCsr([['i', 'love'], ['zebra'], ['sad']], vocab, 2);
    expect(x.rows).toBe(3);
    expect(Array.from(x.indptr)).toEqual([0, 3, 3, 4]);
  });
});
