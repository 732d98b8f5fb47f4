import { onnx } from 'onnx-proto';
import { buildOnnxModel, MODEL_IO, OPSETS, readOnnxMetadata, readOnnxModel } from '../../../model/src/onnx';
import type { TrainedModel } from '../../../model/src/pipeline';
import { NORMALIZER_LOCALE, TOKEN_PATTERN } from '../../../model/src/text';

const model: TrainedModel = {
  labels: ['joy', 'sadness'],
  blocks: [
    {
      analyzer: 'word',
      minN: 1,
      maxN: 2,
      terms: ['love', 'sad', 'so', 'so sad'],
      idf: Float64Array.from([1.5, 1.25, 1.1, 2]),
    },
    {
      analyzer: 'char',
      minN: 2,
      maxN: 3,
      terms: ['ov', 'ad', 'sad'],
      idf: Float64Array.from([1.2, 1.3, 1.4]),
    },
  ],
  linear: {
    features: 7,
    classes: 2,
    weights: Float64Array.from([1, -1, -1, 1, 0.1, 0.2, -0.5, 0.5, 0.25, -0.25, -0.75, 0.75, 0.3, 0.6]),
    intercepts: Float64Array.from([0.3, -0.3]),
  },
};

describe('buildOnnxModel', () => {
  const bytes = buildOnnxModel(model, { dataset_sha256: 'abc' });
  const proto = onnx.ModelProto.decode(bytes);
  const graph = proto.graph as onnx.GraphProto;

  test('declares the contract: input text [N]; outputs label [N], probabilities [N, C], classes [C]', () => {
    const dims = (v: onnx.IValueInfoProto): (string | number)[] =>
      (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input.map((v) => [v.name, dims(v)])).toEqual([[MODEL_IO.input, ['N']]]);
    expect(graph.output.map((v) => [v.name, dims(v)])).toEqual([
      [MODEL_IO.label, ['N']],
      [MODEL_IO.probabilities, ['N', 2]],
      [MODEL_IO.classes, [2]],
    ]);
  });

  test('uses standard operators only, no ZipMap, and imports the declared opsets', () => {
    const branch = [
      'com.microsoft:Tokenizer',
      'ai.onnx:TfIdfVectorizer',
      'ai.onnx:ReduceL2',
      'ai.onnx:Max',
      'ai.onnx:MatMul',
      'ai.onnx:Div',
    ];
    expect(graph.node.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`)).toEqual([
      'ai.onnx:StringNormalizer',
      'ai.onnx:StringConcat',
      ...branch,
      ...branch,
      'ai.onnx:Add',
      'ai.onnx.ml:LinearClassifier',
      'ai.onnx:Identity',
    ]);
    expect(proto.opsetImport.map((o) => [o.domain || 'ai.onnx', Number(o.version)])).toEqual(
      Object.entries(OPSETS),
    );
  });

  test('lower-cases with locale C.UTF-8; tokenises words with TOKEN_PATTERN and characters with "."', () => {
    const attrs = (op: string, name: string): string[] =>
      graph.node
        .filter((n) => n.opType === op)
        .map((n) =>
          new TextDecoder().decode(n.attribute?.find((x) => x.name === name)?.s ?? new Uint8Array()),
        );
    expect(attrs('StringNormalizer', 'locale')).toEqual([NORMALIZER_LOCALE]);
    expect(attrs('StringNormalizer', 'case_change_action')).toEqual(['LOWER']);
    expect(attrs('Tokenizer', 'tokenexp')).toEqual([TOKEN_PATTERN, '.']);
  });

  test('lays out each TfIdfVectorizer pool by n-gram length with ngram_counts as start offsets', () => {
    const vectorizers = graph.node.filter((n) => n.opType === 'TfIdfVectorizer');
    const attr = (n: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined =>
      n.attribute?.find((x) => x.name === name);
    const dec = new TextDecoder();
    const pools = vectorizers.map((n) => (attr(n, 'pool_strings')?.strings ?? []).map((b) => dec.decode(b)));
    expect(pools).toEqual([
      ['love', 'sad', 'so', 'so', 'sad'],
      ['o', 'v', 'a', 'd', 's', 'a', 'd'],
    ]);
    expect(vectorizers.map((n) => (attr(n, 'ngram_counts')?.ints ?? []).map(Number))).toEqual([
      [0, 3],
      [0, 0, 4],
    ]);
    expect(vectorizers.map((n) => Number(attr(n, 'min_gram_length')?.i))).toEqual([1, 2]);
  });

  test('round-trips through readOnnxModel (weights rounded to float32) and keeps metadata', () => {
    const back = readOnnxModel(bytes);
    expect(back.labels).toEqual(model.labels);
    expect(back.blocks.map((b) => [b.analyzer, b.minN, b.maxN, b.terms])).toEqual(
      model.blocks.map((b) => [b.analyzer, b.minN, b.maxN, b.terms]),
    );
    back.blocks.forEach((b, i) =>
      expect(Array.from(b.idf)).toEqual(Array.from(Float32Array.from(model.blocks[i]?.idf ?? []))),
    );
    expect(Array.from(back.linear.weights)).toEqual(Array.from(Float32Array.from(model.linear.weights)));
    expect(Array.from(back.linear.intercepts)).toEqual(
      Array.from(Float32Array.from(model.linear.intercepts)),
    );
    expect(readOnnxMetadata(bytes)).toEqual({ dataset_sha256: 'abc' });
  });

  test('is byte-for-byte deterministic', () => {
    expect(Buffer.from(buildOnnxModel(model, { dataset_sha256: 'abc' })).equals(Buffer.from(bytes))).toBe(
      true,
    );
  });

  test('refuses an empty vocabulary', () => {
    const empty = {
      ...model,
      blocks: [{ analyzer: 'word' as const, minN: 1, maxN: 2, terms: [], idf: new Float64Array() }],
    };
    expect(() => buildOnnxModel(empty)).toThrow(/vocabulary is empty/);
  });
});
