/**
 * TF-IDF feature blocks, computed exactly as ONNX's TfIdfVectorizer does (mode TFIDF: raw n-gram
 * count x idf weight), each block L2-normalised on its own (as scikit-learn's FeatureUnion of two
 * TfidfVectorizers): word 1-2-grams over TOKEN_PATTERN tokens, and character n-grams over the
 * lowercased text, which catch what word tokens miss in tweets ("loooove", "sooo", "!!").
 */
import { normalize, PAD_TOKEN, tokenizeNormalized } from './text';

/** Which sequence a block takes n-grams of. */
export type Analyzer = 'word' | 'char';

/** How a block's n-grams are built and how many are kept. */
export interface BlockOptions {
  analyzer: Analyzer;
  minN: number;
  maxN: number;
  /** Minimum number of training documents an n-gram must occur in. */
  minDf: number;
  /** Keep at most this many n-grams (highest document frequency first; ties by term). */
  maxFeatures: number;
}

/** A fitted block: its n-grams in column order (grouped by length, ascending) and their idf. */
export interface NgramBlock {
  analyzer: Analyzer;
  minN: number;
  maxN: number;
  terms: string[];
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

/** The units a block's n-grams are made of: word tokens, or the characters of the padded text. */
export function units(analyzer: Analyzer, normalized: string): string[] {
  // The graph appends " PAD" before both tokenizers (see text.ts); the character block sees it too.
  return analyzer === 'word' ? tokenizeNormalized(normalized) : [...`${normalized} ${PAD_TOKEN}`];
}

/** Joins n units into one term: words with a space, characters with nothing. */
export function joinUnits(analyzer: Analyzer, parts: readonly string[]): string {
  return parts.join(analyzer === 'word' ? ' ' : '');
}

/** Splits a term back into its units (the TfIdfVectorizer pool stores units). */
export function splitTerm(analyzer: Analyzer, term: string): string[] {
  return analyzer === 'word' ? term.split(' ') : [...term];
}

/** All n-grams (minN..maxN, with repeats) of a unit sequence, shortest first. */
export function ngramsOf(analyzer: Analyzer, seq: readonly string[], minN: number, maxN: number): string[] {
  const out: string[] = [];
  for (let n = minN; n <= maxN; n += 1) {
    for (let i = 0; i + n <= seq.length; i += 1) out.push(joinUnits(analyzer, seq.slice(i, i + n)));
  }
  return out;
}

const SURROGATE = /[\ud800-\udfff]/;

/** The n-grams a block counts for one normalised text. */
export function gramsOfNormalized(
  block: Pick<NgramBlock, 'analyzer' | 'minN' | 'maxN'>,
  normalized: string,
): string[] {
  if (block.analyzer === 'char') {
    const padded = `${normalized} ${PAD_TOKEN}`;
    // Fast path: without surrogate pairs every UTF-16 unit is one character.
    if (!SURROGATE.test(padded)) {
      const out: string[] = [];
      for (let n = block.minN; n <= block.maxN; n += 1) {
        for (let i = 0; i + n <= padded.length; i += 1) out.push(padded.substring(i, i + n));
      }
      return out;
    }
  }
  return ngramsOf(block.analyzer, units(block.analyzer, normalized), block.minN, block.maxN);
}

/** The n-grams a block counts for one raw text. */
export function gramsOf(block: Pick<NgramBlock, 'analyzer' | 'minN' | 'maxN'>, text: string): string[] {
  return gramsOfNormalized(block, normalize(text));
}

const UPPER = /[A-Z]/;

/**
 * n-grams of many documents as ids into one dictionary: each gram string is hashed once, and
 * vocabulary fitting and matrix building (repeated per cross-validation fold) work on integers.
 */
export interface InternedGrams {
  /** Gram string of each id. */
  grams: string[];
  /** Per document, the ids of its n-grams (with repeats). */
  docs: Int32Array[];
}

/** Interns the n-grams of already-computed documents. */
export function internGrams(docGrams: Iterable<readonly string[]>): InternedGrams {
  const ids = new Map<string, number>();
  const grams: string[] = [];
  const docs: Int32Array[] = [];
  for (const doc of docGrams) {
    const out = new Int32Array(doc.length);
    doc.forEach((gram, p) => {
      let id = ids.get(gram);
      if (id === undefined) {
        id = grams.length;
        ids.set(gram, id);
        grams.push(gram);
      }
      out[p] = id;
    });
    docs.push(out);
  }
  return { grams, docs };
}

/** A block fitted on interned n-grams, with the id -> column map (-1: not a feature). */
export interface FittedBlock {
  block: NgramBlock;
  columnOf: Int32Array;
}

/**
 * Fits a block's vocabulary and idf on the given documents (`rows` of `interned`, default all):
 * n-grams in at least minDf documents, the maxFeatures most frequent (ties by term), grouped by
 * length; idf smoothed as scikit-learn.
 */
export function fitInterned(
  interned: InternedGrams,
  options: BlockOptions,
  rows?: readonly number[],
): FittedBlock {
  const use = rows ?? interned.docs.map((_, i) => i);
  const df = new Int32Array(interned.grams.length);
  const lastDoc = new Int32Array(interned.grams.length).fill(-1);
  for (const row of use) {
    for (const id of interned.docs[row] ?? []) {
      if (lastDoc[id] !== row) {
        lastDoc[id] = row;
        df[id] = (df[id] ?? 0) + 1;
      }
    }
  }
  const gram = (id: number): string => interned.grams[id] ?? '';
  const candidates: number[] = [];
  // Upper case only comes from the in-graph pad (lowercased text has none): never a feature.
  df.forEach((count, id) => {
    if (count >= options.minDf && !UPPER.test(gram(id))) candidates.push(id);
  });
  const kept = candidates
    .sort((a, b) => (df[b] ?? 0) - (df[a] ?? 0) || (gram(a) < gram(b) ? -1 : gram(a) > gram(b) ? 1 : 0))
    .slice(0, options.maxFeatures)
    .map((id) => ({ id, n: splitTerm(options.analyzer, gram(id)).length }))
    // Stable sort: grouped by length (the pool layout), by frequency within a group.
    .sort((a, b) => a.n - b.n);
  const columnOf = new Int32Array(interned.grams.length).fill(-1);
  kept.forEach(({ id }, col) => {
    columnOf[id] = col;
  });
  const n = use.length;
  return {
    block: {
      analyzer: options.analyzer,
      minN: options.minN,
      maxN: options.maxN,
      terms: kept.map(({ id }) => gram(id)),
      idf: Float64Array.from(kept, ({ id }) => Math.log((1 + n) / (1 + (df[id] ?? 0))) + 1),
    },
    columnOf,
  };
}

/** Fits a block's vocabulary and idf on the n-grams of each training document. */
export function fitBlock(docGrams: readonly (readonly string[])[], options: BlockOptions): NgramBlock {
  return fitInterned(internGrams(docGrams), options).block;
}

/**
 * Feature matrix of interned documents (`rows`, default all) over fitted blocks, laid out as
 * featureMatrix() does: each block normalised on its own, blocks side by side.
 */
export function internedMatrix(
  parts: readonly { fitted: FittedBlock; interned: InternedGrams }[],
  rows?: readonly number[],
): CsrMatrix {
  const use = rows ?? (parts[0]?.interned.docs ?? []).map((_, i) => i);
  const offsets = parts.map((_, b) => parts.slice(0, b).reduce((s, p) => s + p.fitted.block.terms.length, 0));
  const counts = parts.map((p) => new Float64Array(p.fitted.block.terms.length));
  // Upper bound on the non-zeros (every n-gram occurrence), so the arrays are allocated once.
  const bound = use.reduce(
    (s, row) => s + parts.reduce((t, p) => t + (p.interned.docs[row]?.length ?? 0), 0),
    0,
  );
  const indices = new Int32Array(bound);
  const values = new Float64Array(bound);
  const indptr = new Int32Array(use.length + 1);
  let nnz = 0;
  const touched: number[] = [];
  use.forEach((row, r) => {
    parts.forEach(({ fitted, interned }, b) => {
      const count = counts[b] ?? new Float64Array();
      const idf = fitted.block.idf;
      touched.length = 0;
      for (const id of interned.docs[row] ?? []) {
        const j = fitted.columnOf[id] ?? -1;
        if (j < 0) continue;
        if (count[j] === 0) touched.push(j);
        count[j] = (count[j] ?? 0) + 1;
      }
      touched.sort((a, c) => a - c);
      let sq = 0;
      for (const j of touched) {
        const v = (count[j] ?? 0) * (idf[j] ?? 0);
        sq += v * v;
      }
      const norm = Math.sqrt(sq);
      const offset = offsets[b] ?? 0;
      for (const j of touched) {
        indices[nnz] = offset + j;
        values[nnz] = ((count[j] ?? 0) * (idf[j] ?? 0)) / norm;
        nnz += 1;
        count[j] = 0;
      }
    });
    indptr[r + 1] = nnz;
  });
  return {
    rows: use.length,
    cols: parts.reduce((s, p) => s + p.fitted.block.terms.length, 0),
    indptr,
    indices: indices.slice(0, nnz),
    values: values.slice(0, nnz),
  };
}

/** Appends one block's normalised row (columns `touched`, counts in `count`, which it resets). */
function pushRow(
  touched: number[],
  count: Float64Array,
  idf: Float64Array,
  offset: number,
  allIdx: number[],
  allVal: number[],
): void {
  touched.sort((a, c) => a - c);
  const values = normalizedValues(touched, (j) => (count[j] ?? 0) * (idf[j] ?? 0));
  touched.forEach((j, p) => {
    allIdx.push(offset + j);
    allVal.push(values[p] ?? 0);
    count[j] = 0;
  });
}

/** Term -> column lookup for a block. */
export function termIndex(block: NgramBlock): Map<string, number> {
  return new Map(block.terms.map((t, i) => [t, i]));
}

/** One document's L2-normalised TF-IDF vector as sorted (column, value) pairs; empty if no term is known. */
export function vectorize(
  grams: readonly string[],
  index: ReadonlyMap<string, number>,
  idf: Float64Array,
): { indices: number[]; values: number[] } {
  const counts = new Map<number, number>();
  for (const gram of grams) {
    const j = index.get(gram);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: normalizedValues(indices, (j) => (counts.get(j) ?? 0) * (idf[j] ?? 0)) };
}

function normalizedValues(indices: readonly number[], value: (j: number) => number): number[] {
  const values = indices.map(value);
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  return norm > 0 ? values.map((v) => v / norm) : values;
}

/**
 * Feature matrix of raw texts over several blocks: each block's row is normalised on its own and
 * the blocks sit side by side (block b's columns start after all earlier blocks' columns).
 */
export function featureMatrix(blocks: readonly NgramBlock[], texts: readonly string[]): CsrMatrix {
  const indexes = blocks.map(termIndex);
  const offsets = blocks.map((_, b) => blocks.slice(0, b).reduce((s, x) => s + x.terms.length, 0));
  const indptr = new Int32Array(texts.length + 1);
  const allIdx: number[] = [];
  const allVal: number[] = [];
  // Same result as vectorize(), with one dense count buffer per block instead of a Map per row.
  const counts = blocks.map((block) => new Float64Array(block.terms.length));
  texts.forEach((text, i) => {
    blocks.forEach((block, b) => {
      const index = indexes[b] ?? new Map<string, number>();
      const count = counts[b] ?? new Float64Array();
      const touched: number[] = [];
      for (const gram of gramsOf(block, text)) {
        const j = index.get(gram);
        if (j === undefined) continue;
        if (count[j] === 0) touched.push(j);
        count[j] = (count[j] ?? 0) + 1;
      }
      pushRow(touched, count, block.idf, offsets[b] ?? 0, allIdx, allVal);
    });
    indptr[i + 1] = allIdx.length;
  });
  return {
    rows: texts.length,
    cols: blocks.reduce((s, x) => s + x.terms.length, 0),
    indptr,
    indices: Int32Array.from(allIdx),
    values: Float64Array.from(allVal),
  };
}
