import { termIndex, vectorize } from './features';
import { softmaxInPlace } from './logreg';
import type { TrainedModel } from './pipeline';
import { tokenize } from './text';

/** One prediction: the label and the probability of each class (in `classes` order). */
export interface Prediction {
  label: string;
  probabilities: number[];
}

/**
 * The ONNX graph's computation in plain TypeScript (float64): normalise, tokenise, TF-IDF,
 * L2-normalise, linear layer, softmax, argmax. Parity tests compare it with onnxruntime.
 */
export class ReferenceScorer {
  private readonly index: Map<string, number>;

  constructor(private readonly model: TrainedModel) {
    this.index = termIndex(model.vocab);
  }

  /** Class labels in probability-column order. */
  get classes(): string[] {
    return this.model.labels;
  }

  /** Scores one sentence. */
  predict(text: string): Prediction {
    const { vocab, linear, labels, ngramMax } = this.model;
    const k = labels.length;
    const { indices, values } = vectorize(tokenize(text), this.index, vocab, ngramMax);
    const z = Float64Array.from(linear.intercepts);
    indices.forEach((j, p) => {
      const v = values[p] ?? 0;
      for (let c = 0; c < k; c += 1) z[c] = (z[c] ?? 0) + v * (linear.weights[j * k + c] ?? 0);
    });
    let best = 0;
    for (let c = 1; c < k; c += 1) if ((z[c] ?? 0) > (z[best] ?? 0)) best = c;
    softmaxInPlace(z, k);
    return { label: labels[best] ?? '', probabilities: [...z] };
  }
}
