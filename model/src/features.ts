/**
 * TF-IDF over word 1-2-grams, computed exactly as ONNX's TfIdfVectorizer (mode TFIDF: raw count x
 * idf weight) followed by L2 normalisation.
 */

/** Vocabulary settings. */
export interface VocabularyOptions {
  /** Minimum number of training documents an n-gram must occur in. */
  minDf: number;
  /** Keep at most this many n-grams (highest document frequency first; ties by term). */
  maxFeatures: number;
  /** Longest n-gram (1 or 2). */
  ngramMax: 1 | 2;
}

/** A fitted vocabulary: unigrams first, then bigrams ("a b"), with smoothed idf weights. */
export interface Vocabulary {
  /** Column order of the feature vector; unigrams precede bigrams. */
  terms: string[];
  /** How many leading `terms` are unigrams. */
  unigramCount: number;
  /** idf per term: ln((1 + n) / (1 + df)) + 1, as scikit-learn's smooth_idf. */
  idf: Float64Array;
}

/** Compressed sparse rows: row i holds `indices/values[indptr[i] .. indptr[i+1])`. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** The n-grams of one token sequence (unigrams then bigrams, with repeats). */
export function ngrams(tokens: readonly string[], ngramMax: 1 | 2): string[] {
  const out = tokens.slice();
  if (ngramMax === 2) {
    for (let i = 0; i + 1 < tokens.length; i += 1) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  }
  return out;
}

const UPPER = /[A-Z]/;

/** Fits the vocabulary and idf on tokenised training documents. */
export function fitVocabulary(docs: readonly (readonly string[])[], options: VocabularyOptions): Vocabulary {
  const df = new Map<string, number>();
  for (const tokens of docs) {
    for (const gram of new Set(ngrams(tokens, options.ngramMax))) df.set(gram, (df.get(gram) ?? 0) + 1);
  }
  // Upper-case tokens only arise from the pad token / StringNormalizer's error text: never features.
  const kept = [...df.entries()]
    .filter(([gram, count]) => count >= options.minDf && !UPPER.test(gram))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, options.maxFeatures);
  const isBigram = (gram: string): boolean => gram.includes(' ');
  const ordered = [...kept.filter(([g]) => !isBigram(g)), ...kept.filter(([g]) => isBigram(g))];
  const n = docs.length;
  return {
    terms: ordered.map(([g]) => g),
    unigramCount: ordered.filter(([g]) => !isBigram(g)).length,
    idf: Float64Array.from(ordered, ([, count]) => Math.log((1 + n) / (1 + count)) + 1),
  };
}

/** Term -> column lookup for a vocabulary. */
export function termIndex(vocab: Vocabulary): Map<string, number> {
  return new Map(vocab.terms.map((t, i) => [t, i]));
}

/** One document's L2-normalised TF-IDF vector as sorted (index, value) pairs; empty if no term is known. */
export function vectorize(
  tokens: readonly string[],
  index: ReadonlyMap<string, number>,
  vocab: Vocabulary,
  ngramMax: 1 | 2,
): { indices: number[]; values: number[] } {
  const counts = new Map<number, number>();
  for (const gram of ngrams(tokens, ngramMax)) {
    const j = index.get(gram);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const indices = [...counts.keys()].sort((a, b) => a - b);
  const values = indices.map((j) => (counts.get(j) ?? 0) * (vocab.idf[j] ?? 0));
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  return { indices, values: norm > 0 ? values.map((v) => v / norm) : values };
}

/** Vectorises many tokenised documents into a CSR matrix. */
export function toCsr(docs: readonly (readonly string[])[], vocab: Vocabulary, ngramMax: 1 | 2): CsrMatrix {
  const index = termIndex(vocab);
  const indptr = new Int32Array(docs.length + 1);
  const allIdx: number[] = [];
  const allVal: number[] = [];
  docs.forEach((tokens, i) => {
    const { indices, values } = vectorize(tokens, index, vocab, ngramMax);
    for (let k = 0; k < indices.length; k += 1) {
      allIdx.push(indices[k] ?? 0);
      allVal.push(values[k] ?? 0);
    }
    indptr[i + 1] = allIdx.length;
  });
  return {
    rows: docs.length,
    cols: vocab.terms.length,
    indptr,
    indices: Int32Array.from(allIdx),
    values: Float64Array.from(allVal),
  };
}
