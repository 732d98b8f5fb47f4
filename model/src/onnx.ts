import { onnx } from 'onnx-proto';
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

/** Operator sets the graph imports. StringConcat needs ai.onnx 20; 21 is IR version 10. */
export const OPSETS = { 'ai.onnx': 21, 'com.microsoft': 1 } as const;
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

/**
 * Builds the ONNX graph: StringNormalizer -> StringConcat(pad) -> Tokenizer -> TfIdfVectorizer ->
 * (MatMul, ReduceL2) -> Div -> Add -> Softmax / ArgMax -> Gather(classes). The L2 division is
 * applied to the C logits instead of the V features: (x / |x|) W = (x W) / |x|, one divide per
 * class instead of per vocabulary term.
 */
export function buildOnnxModel(model: TrainedModel, metadata: ModelMetadata = {}): Uint8Array {
  const { vocab, linear, labels } = model;
  const k = labels.length;
  const v = vocab.terms.length;
  if (v === 0) throw new RangeError('vocabulary is empty: no n-gram reached min_df');
  const unigrams = vocab.terms.slice(0, vocab.unigramCount);
  const bigramParts = vocab.terms.slice(vocab.unigramCount).flatMap((t) => t.split(' '));

  const nodes: onnx.INodeProto[] = [
    node('StringNormalizer', ['text'], ['lowered'], {
      case_change_action: 'LOWER',
      locale: NORMALIZER_LOCALE,
    }),
    node('StringConcat', ['lowered', 'pad_suffix'], ['padded']),
    node(
      'Tokenizer',
      ['padded'],
      ['tokens'],
      { mark: 0, mincharnum: 1, pad_value: PAD_TOKEN, tokenexp: TOKEN_PATTERN },
      'com.microsoft',
    ),
    node('TfIdfVectorizer', ['tokens'], ['tfidf'], {
      mode: 'TFIDF',
      min_gram_length: 1,
      max_gram_length: model.ngramMax,
      max_skip_count: 0,
      ngram_counts: model.ngramMax === 2 ? [0, unigrams.length] : [0],
      ngram_indexes: Array.from({ length: v }, (_, i) => i),
      pool_strings: [...unigrams, ...bigramParts],
      weights: { floats: Array.from(vocab.idf) },
    }),
    node('ReduceL2', ['tfidf', 'norm_axes'], ['norm'], { keepdims: 1 }),
    node('Max', ['norm', 'norm_epsilon'], ['safe_norm']),
    node('MatMul', ['tfidf', 'coefficients'], ['raw_scores']),
    node('Div', ['raw_scores', 'safe_norm'], ['scaled_scores']),
    node('Add', ['scaled_scores', 'intercepts'], ['logits']),
    node('Softmax', ['logits'], [MODEL_IO.probabilities], { axis: -1 }),
    node('ArgMax', ['logits'], ['label_index'], { axis: 1, keepdims: 0 }),
    node('Gather', ['class_labels', 'label_index'], [MODEL_IO.label], { axis: 0 }),
    node('Identity', ['class_labels'], [MODEL_IO.classes]),
  ];
  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'sentiment-gateway',
    producerVersion: '1',
    docString: 'TF-IDF (word 1-2-grams) + multinomial logistic regression emotion classifier.',
    opsetImport: Object.entries(OPSETS).map(([domain, version]) => ({
      domain: domain === 'ai.onnx' ? '' : domain,
      version,
    })),
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'sentiment',
      node: nodes,
      initializer: [
        stringTensor('pad_suffix', [` ${PAD_TOKEN}`]),
        int64Tensor('norm_axes', [1]),
        { ...floatTensor('norm_epsilon', [], [NORM_EPSILON]) },
        floatTensor('coefficients', [v, k], linear.weights),
        floatTensor('intercepts', [k], linear.intercepts),
        stringTensor('class_labels', labels),
      ],
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
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const find = (op: string): onnx.INodeProto => {
    const n = (graph.node ?? []).find((x) => x.opType === op);
    if (!n) throw new Error(`ONNX graph has no ${op} node`);
    return n;
  };
  const attrOf = (n: onnx.INodeProto, name: string): onnx.IAttributeProto => {
    const a = (n.attribute ?? []).find((x) => x.name === name);
    if (!a) throw new Error(`${n.opType} has no attribute ${name}`);
    return a;
  };
  const tokenexp = dec.decode(attrOf(find('Tokenizer'), 'tokenexp').s ?? new Uint8Array());
  if (tokenexp !== TOKEN_PATTERN) {
    throw new Error(
      `model tokenizer pattern ${JSON.stringify(tokenexp)} differs from this code's TOKEN_PATTERN`,
    );
  }
  const tfidf = find('TfIdfVectorizer');
  const pool = (attrOf(tfidf, 'pool_strings').strings ?? []).map((s) => dec.decode(s));
  const counts = (attrOf(tfidf, 'ngram_counts').ints ?? []).map(Number);
  const indexes = (attrOf(tfidf, 'ngram_indexes').ints ?? []).map(Number);
  const weights = attrOf(tfidf, 'weights').floats ?? [];
  const ngramMax = Number(attrOf(tfidf, 'max_gram_length').i) === 2 ? 2 : 1;
  const unigramCount = counts.length > 1 ? (counts[1] ?? 0) : pool.length;
  const grams = [
    ...pool.slice(0, unigramCount),
    ...Array.from({ length: (pool.length - unigramCount) / 2 }, (_, i) =>
      pool.slice(unigramCount + 2 * i, unigramCount + 2 * i + 2).join(' '),
    ),
  ];
  const terms: string[] = new Array<string>(grams.length);
  const idf = new Float64Array(grams.length);
  grams.forEach((g, i) => {
    const col = indexes[i] ?? i;
    terms[col] = g;
    idf[col] = weights[i] ?? 0;
  });
  const init = (name: string): onnx.ITensorProto => {
    const t = (graph.initializer ?? []).find((x) => x.name === name);
    if (!t) throw new Error(`ONNX graph has no initializer ${name}`);
    return t;
  };
  const labels = (init('class_labels').stringData ?? []).map((s) => dec.decode(s));
  const coefficients = floatsOf(init('coefficients'));
  return {
    labels,
    ngramMax,
    vocab: { terms, unigramCount, idf },
    linear: {
      features: terms.length,
      classes: labels.length,
      weights: coefficients,
      intercepts: floatsOf(init('intercepts')),
    },
  };
}

/** Key/value metadata stored in the model file. */
export function readOnnxMetadata(bytes: Uint8Array): ModelMetadata {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
