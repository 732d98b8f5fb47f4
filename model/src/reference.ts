import { gramsOf, termIndex, vectorize } from './features';
import { softmaxInPlace } from './logreg';
import type { TrainedModel } from './pipeline';

/** One prediction: the label and the probability of each class (in `classes` order). */
export interface Prediction {
  label: string;
  probabilities: number[];
}

/**
 * The ONNX graph's computation in plain TypeScript (float64): normalise, tokenise, TF-IDF per
 * block, L2-normalise each block, linear layer, softmax, argmax. Parity tests compare it with
 * onnxruntime.
 */
export class ReferenceScorer {
  private readonly indexes: Map<string, number>[];
  private readonly offsets: number[];

  constructor(private readonly model: TrainedModel) {
    this.indexes = model.blocks.map(termIndex);
    this.offsets = model.blocks.map((_, b) =>
      model.blocks.slice(0, b).reduce((s, x) => s + x.terms.length, 0),
    );
  }

  /** Class labels in probability-column order. */
  get classes(): string[] {
    return this.model.labels;
  }

  /** Scores one sentence. */
  predict(text: string): Prediction {
    const { blocks, linear, labels } = this.model;
    const k = labels.length;
    const z = Float64Array.from(linear.intercepts);
    blocks.forEach((block, b) => {
      const { indices, values } = vectorize(gramsOf(block, text), this.indexes[b] ?? new Map(), block.idf);
      const offset = this.offsets[b] ?? 0;
      indices.forEach((j, p) => {
        const v = values[p] ?? 0;
        const row = (offset + j) * k;
        for (let c = 0; c < k; c += 1) z[c] = (z[c] ?? 0) + v * (linear.weights[row + c] ?? 0);
      });
    });
    let best = 0;
    for (let c = 1; c < k; c += 1) if ((z[c] ?? 0) > (z[best] ?? 0)) best = c;
    softmaxInPlace(z, k);
    return { label: labels[best] ?? '', probabilities: [...z] };
  }
}
