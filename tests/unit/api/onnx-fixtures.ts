import { onnx } from 'onnx-proto';

const STRING = onnx.TensorProto.DataType.STRING;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const valueInfo = (name: string, elemType: number, dims: (string | number)[]): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  },
});

const encode = (graph: onnx.IGraphProto): Uint8Array =>
  onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'api-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  }).finish();

/** A valid ONNX model that breaks the API's contract: string input `x`, string output `y` (Identity). */
export function wrongNamesModel(): Uint8Array {
  return encode({
    name: 'wrong-names',
    input: [valueInfo('x', STRING, ['N'])],
    output: [valueInfo('y', STRING, ['N'])],
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
  });
}

/**
 * A model with the contract's names whose `classes` constant is given: label = text (Identity),
 * probabilities = a constant [1, width] row, classes = the given labels.
 */
export function contractNamesModel(classes: string[], width: number): Uint8Array {
  const text = new TextEncoder();
  return encode({
    name: 'contract-names',
    input: [valueInfo('text', STRING, ['N'])],
    output: [
      valueInfo('label', STRING, ['N']),
      valueInfo('probabilities', FLOAT, [1, width]),
      valueInfo('classes', STRING, [classes.length]),
    ],
    node: [
      { opType: 'Identity', input: ['text'], output: ['label'] },
      {
        opType: 'Constant',
        output: ['probabilities'],
        attribute: [
          {
            name: 'value',
            type: onnx.AttributeProto.AttributeType.TENSOR,
            t: {
              dims: [1, width],
              dataType: FLOAT,
              floatData: Array.from({ length: width }, () => 1 / width),
            },
          },
        ],
      },
      {
        opType: 'Constant',
        output: ['classes'],
        attribute: [
          {
            name: 'value',
            type: onnx.AttributeProto.AttributeType.TENSOR,
            t: { dims: [classes.length], dataType: STRING, stringData: classes.map((c) => text.encode(c)) },
          },
        ],
      },
    ],
  });
}
