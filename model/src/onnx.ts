import { onnx } from 'onnx-proto';
import { joinUnits, splitTerm, type Analyzer, type NgramBlock } from './features';
import type { TrainedModel } from './pipeline';
import { NORMALIZER_LOCALE, PAD_TOKEN, TOKEN_PATTERN } from './text';

/**
 * The model contract (the API reads these names from the session and fails fast if they differ):
 * - input  `text`:          string  [N]     raw sentences, N >= 1
 * - output `label`:         string  [N]     most probable class
 * - output `probabilities`: float32 [N, C]  softmax over classes, rows sum to 1
 * - output `classes`:       string  [C]     the label of each probabilities column
 */
export const MODEL_IO = {
  input: 'text',
  label: 'label',
  probabilities: 'probabilities',
  classes: 'classes',
} as const;

/**
 * Operator sets the graph imports: StringConcat needs ai.onnx 20 (21 goes with IR version 10);
 * LinearClassifier is ai.onnx.ml 1; Tokenizer is com.microsoft 1.
 */
export const OPSETS = { 'ai.onnx': 21, 'ai.onnx.ml': 1, 'com.microsoft': 1 } as const;
export const IR_VERSION = 10;

/** Guards the L2 division for rows with no known n-gram (their logits are then the intercepts). */
const NORM_EPSILON = 1e-12;

const enc = new TextEncoder();
const dec = new TextDecoder();
const { AttributeType } = onnx.AttributeProto;
const { DataType } = onnx.TensorProto;

type AttrValue = number | string | number[] | string[] | { floats: number[] };

function attr(name: string, value: AttrValue): onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: enc.encode(value) };
  if (!Array.isArray(value)) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if (value.every((v) => typeof v === 'string')) {
    return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => enc.encode(s)) };
  }
  return { name, type: AttributeType.INTS, ints: value as number[] };
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  domain = '',
): onnx.INodeProto {
  return {
    opType,
    domain,
    name: outputs[0],
    input: inputs,
    output: outputs,
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
  };
}

function floatTensor(name: string, dims: number[], data: ArrayLike<number>): onnx.ITensorProto {
  const f32 = Float32Array.from(data as ArrayLike<number>);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(f32.buffer) };
}

function int64Tensor(name: string, data: number[]): onnx.ITensorProto {
  return { name, dims: [data.length], dataType: DataType.INT64, int64Data: data };
}

function stringTensor(name: string, data: string[]): onnx.ITensorProto {
  return { name, dims: [data.length], dataType: DataType.STRING, stringData: data.map((s) => enc.encode(s)) };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Graph metadata stored in the model (shown by Netron; read back by the API for /model info). */
export type ModelMetadata = Record<string, string>;

/** Tokenizer expression that makes com.microsoft Tokenizer split into single characters. */
const CHAR_TOKENEXP = '.';

/** TfIdfVectorizer attributes for a block: pool of units grouped by n-gram length. */
function vectorizerAttributes(block: NgramBlock): Record<string, AttrValue> {
  const pool: string[] = [];
  const starts: number[] = [];
  for (let n = 1; n <= block.maxN; n += 1) {
    starts.push(pool.length);
    for (const term of block.terms) {
      const parts = splitTerm(block.analyzer, term);
      if (parts.length === n) pool.push(...parts);
    }
  }
  return {
    mode: 'TFIDF',
    min_gram_length: block.minN,
    max_gram_length: block.maxN,
    max_skip_count: 0,
    ngram_counts: starts,
    // Terms are stored grouped by length, which is also their column order.
    ngram_indexes: block.terms.map((_, i) => i),
    pool_strings: pool,
    weights: { floats: Array.from(block.idf) },
  };
}

/**
 * Builds the ONNX graph:
 *   text -> StringNormalizer -> StringConcat(" PAD") -> per block: Tokenizer -> TfIdfVectorizer
 *   -> (MatMul, ReduceL2 -> Max(eps)) -> Div; blocks summed -> LinearClassifier(identity weights,
 *   intercepts, SOFTMAX) -> label + probabilities; classes = Identity(class_labels).
 * LinearClassifier does intercept + softmax + argmax + label lookup in one kernel (fewer nodes:
 * at batch size 1 the per-node overhead is a large share of the latency).
 * The L2 division is applied to the C scores instead of the V features: (x / |x|) W = (x W) / |x|,
 * one divide per class instead of per vocabulary term.
 */
export function buildOnnxModel(model: TrainedModel, metadata: ModelMetadata = {}): Uint8Array {
  const { blocks, linear, labels } = model;
  const k = labels.length;
  if (blocks.length === 0 || blocks.some((b) => b.terms.length === 0)) {
    throw new RangeError('vocabulary is empty: no n-gram reached min_df');
  }
  const nodes: onnx.INodeProto[] = [
    node('StringNormalizer', ['text'], ['lowered'], {
      case_change_action: 'LOWER',
      locale: NORMALIZER_LOCALE,
    }),
    node('StringConcat', ['lowered', 'pad_suffix'], ['padded']),
  ];
  const initializers: onnx.ITensorProto[] = [
    stringTensor('pad_suffix', [` ${PAD_TOKEN}`]),
    int64Tensor('norm_axes', [1]),
    floatTensor('norm_epsilon', [], [NORM_EPSILON]),
  ];
  let row = 0;
  const blockScores = blocks.map((block) => {
    const p = block.analyzer;
    const v = block.terms.length;
    nodes.push(
      node(
        'Tokenizer',
        ['padded'],
        [`${p}_tokens`],
        {
          mark: 0,
          mincharnum: 1,
          pad_value: PAD_TOKEN,
          tokenexp: block.analyzer === 'word' ? TOKEN_PATTERN : CHAR_TOKENEXP,
        },
        'com.microsoft',
      ),
      node('TfIdfVectorizer', [`${p}_tokens`], [`${p}_tfidf`], vectorizerAttributes(block)),
      node('ReduceL2', [`${p}_tfidf`, 'norm_axes'], [`${p}_norm`], { keepdims: 1 }),
      node('Max', [`${p}_norm`, 'norm_epsilon'], [`${p}_safe_norm`]),
      node('MatMul', [`${p}_tfidf`, `${p}_coefficients`], [`${p}_raw_scores`]),
      node('Div', [`${p}_raw_scores`, `${p}_safe_norm`], [`${p}_scores`]),
    );
    initializers.push(
      floatTensor(`${p}_coefficients`, [v, k], linear.weights.subarray(row * k, (row + v) * k)),
    );
    row += v;
    return `${p}_scores`;
  });
  let scores = blockScores[0] ?? '';
  for (const next of blockScores.slice(1)) {
    nodes.push(node('Add', [scores, next], [`${scores}_plus_${next}`]));
    scores = `${scores}_plus_${next}`;
  }
  nodes.push(
    node(
      'LinearClassifier',
      [scores],
      [MODEL_IO.label, MODEL_IO.probabilities],
      {
        coefficients: {
          floats: Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? 1 : 0)),
        },
        intercepts: { floats: Array.from(linear.intercepts) },
        classlabels_strings: labels,
        multi_class: 0,
        post_transform: 'SOFTMAX',
      },
      'ai.onnx.ml',
    ),
    node('Identity', ['class_labels'], [MODEL_IO.classes]),
  );
  initializers.push(stringTensor('class_labels', labels));
  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'sentiment-gateway',
    producerVersion: '1',
    docString:
      'TF-IDF (word 1-2-grams + character n-grams) + multinomial logistic regression emotion classifier.',
    opsetImport: Object.entries(OPSETS).map(([domain, version]) => ({
      domain: domain === 'ai.onnx' ? '' : domain,
      version,
    })),
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'sentiment',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(MODEL_IO.input, DataType.STRING, ['N'])],
      output: [
        valueInfo(MODEL_IO.label, DataType.STRING, ['N']),
        valueInfo(MODEL_IO.probabilities, DataType.FLOAT, ['N', k]),
        valueInfo(MODEL_IO.classes, DataType.STRING, [k]),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}

function floatsOf(t: onnx.ITensorProto): Float64Array {
  if (t.rawData && t.rawData.length > 0) {
    // A fresh copy: protobufjs hands out Buffer views whose offset may not be 4-byte aligned.
    const copy = new Uint8Array(t.rawData);
    return Float64Array.from(new Float32Array(copy.buffer, 0, copy.length / 4));
  }
  return Float64Array.from(t.floatData ?? []);
}

/**
 * Reads a graph written by buildOnnxModel back into a TrainedModel (float32 weights widened to
 * float64), so the reference scorer can be checked against any committed model file.
 */
export function readOnnxModel(bytes: Uint8Array): TrainedModel {
  const graph = onnx.ModelProto.decode(bytes).graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const nodes = graph.node ?? [];
  const producer = (output: string): onnx.INodeProto => {
    const n = nodes.find((x) => (x.output ?? []).includes(output));
    if (!n) throw new Error(`ONNX graph has no node producing ${output}`);
    return n;
  };
  const attrOf = (n: onnx.INodeProto, name: string): onnx.IAttributeProto => {
    const a = (n.attribute ?? []).find((x) => x.name === name);
    if (!a) throw new Error(`${n.opType} has no attribute ${name}`);
    return a;
  };
  const init = (name: string): onnx.ITensorProto => {
    const t = (graph.initializer ?? []).find((x) => x.name === name);
    if (!t) throw new Error(`ONNX graph has no initializer ${name}`);
    return t;
  };
  const labels = (init('class_labels').stringData ?? []).map((s) => dec.decode(s));
  const classifier = producer(MODEL_IO.probabilities);
  const blocks: NgramBlock[] = [];
  const weightParts: Float64Array[] = [];
  for (const tfidf of nodes.filter((n) => n.opType === 'TfIdfVectorizer')) {
    const tokenizer = producer(tfidf.input?.[0] ?? '');
    const tokenexp = dec.decode(attrOf(tokenizer, 'tokenexp').s ?? new Uint8Array());
    const analyzer: Analyzer = tokenexp === CHAR_TOKENEXP ? 'char' : 'word';
    if (analyzer === 'word' && tokenexp !== TOKEN_PATTERN) {
      throw new Error(
        `model tokenizer pattern ${JSON.stringify(tokenexp)} differs from this code's TOKEN_PATTERN`,
      );
    }
    const pool = (attrOf(tfidf, 'pool_strings').strings ?? []).map((x) => dec.decode(x));
    const starts = (attrOf(tfidf, 'ngram_counts').ints ?? []).map(Number);
    const indexes = (attrOf(tfidf, 'ngram_indexes').ints ?? []).map(Number);
    const weights = attrOf(tfidf, 'weights').floats ?? [];
    const grams: string[] = [];
    starts.forEach((start, i) => {
      const n = i + 1;
      const end = starts[i + 1] ?? pool.length;
      for (let p = start; p + n <= end; p += n) grams.push(joinUnits(analyzer, pool.slice(p, p + n)));
    });
    const terms = new Array<string>(grams.length);
    const idf = new Float64Array(grams.length);
    grams.forEach((g, i) => {
      const col = indexes[i] ?? i;
      terms[col] = g;
      idf[col] = weights[i] ?? 0;
    });
    blocks.push({
      analyzer,
      minN: Number(attrOf(tfidf, 'min_gram_length').i),
      maxN: Number(attrOf(tfidf, 'max_gram_length').i),
      terms,
      idf,
    });
    const matmul = nodes.find((n) => n.opType === 'MatMul' && n.input?.[0] === tfidf.output?.[0]);
    weightParts.push(floatsOf(init(matmul?.input?.[1] ?? '')));
  }
  const weights = new Float64Array(weightParts.reduce((s, w) => s + w.length, 0));
  weightParts.reduce((at, w) => (weights.set(w, at), at + w.length), 0);
  return {
    labels,
    blocks,
    linear: {
      features: blocks.reduce((s, b) => s + b.terms.length, 0),
      classes: labels.length,
      weights,
      intercepts: Float64Array.from(attrOf(classifier, 'intercepts').floats ?? []),
    },
  };
}

/** Key/value metadata stored in the model file. */
export function readOnnxMetadata(bytes: Uint8Array): ModelMetadata {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
