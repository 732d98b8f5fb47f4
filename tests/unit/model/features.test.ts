import {
  featureMatrix,
  fitBlock,
  gramsOf,
  ngramsOf,
  splitTerm,
  termIndex,
  units,
  vectorize,
  type BlockOptions,
} from '../../../model/src/features';

const WORD: BlockOptions = { analyzer: 'word', minN: 1, maxN: 2, minDf: 2, maxFeatures: 100 };
const texts = ['I love it', 'i LOVE you', 'so sad', 'I am so sad'];
const wordGrams = texts.map((t) => gramsOf(WORD, t));

describe('n-grams', () => {
  test('word units are the tokens; character units are the characters of the text + " PAD"', () => {
    expect(units('word', 'i love it!')).toEqual(['i', 'love', 'it', '!']);
    expect(units('char', 'hi!')).toEqual(['h', 'i', '!', ' ', 'P', 'A', 'D']);
  });

  test('lists n-grams shortest first, words joined by a space, characters by nothing', () => {
    expect(ngramsOf('word', ['a', 'b', 'c'], 1, 2)).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    expect(ngramsOf('char', ['a', 'b', 'c'], 2, 3)).toEqual(['ab', 'bc', 'abc']);
    expect(splitTerm('word', 'a b')).toEqual(['a', 'b']);
    expect(splitTerm('char', 'a b')).toEqual(['a', ' ', 'b']);
  });

  test('character n-grams of text with surrogate pairs count code points, like the fast path does code units', () => {
    const block = { analyzer: 'char', minN: 2, maxN: 2 } as const;
    expect(gramsOf(block, 'a😀b')).toEqual(['a😀', '😀b', 'b ', ' P', 'PA', 'AD']);
    expect(gramsOf(block, 'ab')).toEqual(ngramsOf('char', units('char', 'ab'), 2, 2));
  });

  test('gramsOf lowercases before taking n-grams', () => {
    expect(gramsOf(WORD, 'I LOVE')).toEqual(['i', 'love', 'i love']);
    expect(gramsOf({ analyzer: 'char', minN: 3, maxN: 3 }, 'Hi')).toEqual(['hi ', 'i P', ' PA', 'PAD']);
  });
});

describe('fitBlock', () => {
  test('keeps n-grams with df >= minDf, grouped by length, most frequent first, idf smoothed', () => {
    const block = fitBlock(wordGrams, WORD);
    expect(block.terms).toEqual(['i', 'love', 'sad', 'so', 'i love', 'so sad']);
    // idf = ln((1 + n) / (1 + df)) + 1 with n = 4
    expect(block.idf[0]).toBeCloseTo(Math.log(5 / 4) + 1, 12);
    expect(block.idf[1]).toBeCloseTo(Math.log(5 / 3) + 1, 12);
  });

  test('caps the vocabulary by document frequency and never admits upper-case (pad) n-grams', () => {
    expect(fitBlock(wordGrams, { ...WORD, minDf: 1, maxFeatures: 3 }).terms).toEqual(['i', 'love', 'i love']);
    const chars = { analyzer: 'char', minN: 2, maxN: 4, minDf: 1, maxFeatures: 10_000 } as const;
    const block = fitBlock(
      texts.map((t) => gramsOf(chars, t)),
      chars,
    );
    expect(block.terms.some((t) => /[A-Z]/.test(t))).toBe(false);
    expect(block.terms).toContain('e ');
    const lengths = block.terms.map((t) => [...t].length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
  });
});

describe('vectorize and featureMatrix', () => {
  const block = fitBlock(wordGrams, { ...WORD, minDf: 1, maxFeatures: 1000 });
  const index = termIndex(block);

  test('counts repeated n-grams (raw tf x idf) and L2-normalises the row', () => {
    const { indices, values } = vectorize(['sad', 'sad'], index, block.idf);
    expect(indices).toEqual([index.get('sad')]);
    expect(values[0]).toBeCloseTo(1, 12);
    const two = vectorize(['so', 'sad', 'so sad'], index, block.idf);
    expect(two.values.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
    expect(two.indices).toHaveLength(3);
  });

  test('returns an empty row when no n-gram is known', () => {
    expect(vectorize(['zebra'], index, block.idf)).toEqual({ indices: [], values: [] });
  });

  test('puts blocks side by side, each normalised on its own', () => {
    const chars = fitBlock(
      texts.map((t) => gramsOf({ analyzer: 'char', minN: 2, maxN: 2 }, t)),
      { analyzer: 'char', minN: 2, maxN: 2, minDf: 1, maxFeatures: 1000 },
    );
    const x = featureMatrix([block, chars], ['so sad', 'zzz']);
    expect(x.cols).toBe(block.terms.length + chars.terms.length);
    const row = (i: number): [number, number][] =>
      Array.from(x.indices.subarray(x.indptr[i], x.indptr[i + 1]), (j, p) => [
        j,
        x.values[(x.indptr[i] ?? 0) + p] ?? 0,
      ]);
    const sq = (cells: [number, number][]): number => cells.reduce((s, [, v]) => s + v * v, 0);
    const first = row(0);
    expect(sq(first.filter(([j]) => j < block.terms.length))).toBeCloseTo(1, 12);
    expect(sq(first.filter(([j]) => j >= block.terms.length))).toBeCloseTo(1, 12);
    // "zzz" has no word n-gram and only the character bigrams around the pad ("z " is unseen).
    expect(row(1).every(([j]) => j >= block.terms.length)).toBe(true);
  });
});
