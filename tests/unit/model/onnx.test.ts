import { onnx } from 'onnx-proto';
import { buildOnnxModel, MODEL_IO, OPSETS, readOnnxMetadata, readOnnxModel } from '../../../model/src/onnx';
import type { TrainedModel } from '../../../model/src/pipeline';
import { NORMALIZER_LOCALE, TOKEN_PATTERN } from '../../../model/src/text';

const model: TrainedModel = {
  labels: ['joy', 'sadness'],
  ngramMax: 2,
  vocab: {
    terms: ['love', 'sad', 'so', 'so sad'],
    unigramCount: 3,
    idf: Float64Array.from([1.5, 1.25, 1.1, 2]),
  },
  linear: {
    features: 4,
    classes: 2,
    weights: Float64Array.from([1, -1, -1, 1, 0.1, 0.2, -0.5, 0.5]),
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
    expect(graph.node.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`)).toEqual([
      'ai.onnx:StringNormalizer',
      'ai.onnx:StringConcat',
      'com.microsoft:Tokenizer',
      'ai.onnx:TfIdfVectorizer',
      'ai.onnx:ReduceL2',
      'ai.onnx:Max',
      'ai.onnx:MatMul',
      'ai.onnx:Div',
      'ai.onnx:Add',
      'ai.onnx:Softmax',
      'ai.onnx:ArgMax',
      'ai.onnx:Gather',
      'ai.onnx:Identity',
    ]);
    expect(proto.opsetImport.map((o) => [o.domain || 'ai.onnx', Number(o.version)])).toEqual(
      Object.entries(OPSETS),
    );
  });

  test('lower-cases with locale C.UTF-8 and tokenises with the shared TOKEN_PATTERN', () => {
    const attr = (op: string, name: string): string => {
      const a = graph.node.find((n) => n.opType === op)?.attribute?.find((x) => x.name === name);
      return new TextDecoder().decode(a?.s ?? new Uint8Array());
    };
    expect(attr('StringNormalizer', 'locale')).toBe(NORMALIZER_LOCALE);
    expect(attr('StringNormalizer', 'case_change_action')).toBe('LOWER');
    expect(attr('Tokenizer', 'tokenexp')).toBe(TOKEN_PATTERN);
  });

  test('round-trips through readOnnxModel (weights rounded to float32) and keeps metadata', () => {
    const back = readOnnxModel(bytes);
    expect(back.labels).toEqual(model.labels);
    expect(back.vocab.terms).toEqual(model.vocab.terms);
    expect(back.vocab.unigramCount).toBe(3);
    expect(Array.from(back.vocab.idf)).toEqual(Array.from(Float32Array.from(model.vocab.idf)));
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
    const empty = { ...model, vocab: { terms: [], unigramCount: 0, idf: new Float64Array() } };
    expect(() => buildOnnxModel(empty)).toThrow(/vocabulary is empty/);
  });
});
