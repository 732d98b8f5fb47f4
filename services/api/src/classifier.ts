import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { MicroBatcher } from './batcher';

/*
 * The model contract (model/sentiment.onnx, produced by `npm run train`):
 *   input  `text`           string  [N]     raw sentences; tokenisation and TF-IDF run inside the graph
 *   output `label`          string  [N]     predicted label of each sentence (one of `classes`)
 *   output `probabilities`  float32 [N, C]  softmax over the C labels, each row sums to 1
 *   output `classes`        string  [C]     the label of each `probabilities` column, in column order
 * The labels are read from `classes` once at start-up, never hard-coded here.
 */
export const MODEL_INPUT = 'text';
export const MODEL_OUTPUTS = { label: 'label', probabilities: 'probabilities', classes: 'classes' } as const;

/** Identity of the loaded model, reported by /metrics (model_info) and v2 responses. */
export interface ModelInfo {
  /** File name without extension, e.g. `sentiment`. */
  readonly name: string;
  /** Hex sha256 of the model file's bytes (the bytes the session was created from). */
  readonly sha256: string;
  /** Labels in `probabilities` column order. */
  readonly labels: readonly string[];
}

/** One sentence's prediction. */
export interface Prediction {
  readonly label: string;
  /** label -> probability, every label present, summing to 1 (float32 precision). */
  readonly probabilities: Readonly<Record<string, number>>;
}

/** Predictions for the submitted sentences, and the inference call that produced them. */
export interface ClassifierResult {
  readonly predictions: readonly Prediction[];
  /** Duration of the inference call. */
  readonly seconds: number;
  /** Sentences in that call: concurrent requests may share one call. */
  readonly callSize: number;
  /** True for exactly one of the requests a call served: per-call metrics are recorded once. */
  readonly firstInCall: boolean;
}

/** What the app needs from a model. */
export interface Classifier {
  readonly info: ModelInfo;
  /** Classifies all sentences with one inference call (which may also serve concurrent requests). */
  predict(sentences: readonly string[]): Promise<ClassifierResult>;
}

/** Thrown when the model file is missing, unreadable, not ONNX, or breaks the contract. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

const WARM_UP_SENTENCE = 'warm-up';
/** Upper bound of sentences in one merged inference call: one full batch request (bounds ORT arena growth). */
export const MAX_CALL_SENTENCES = 64;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkSignature(session: InferenceSession, path: string): void {
  const expectedOutputs = Object.values(MODEL_OUTPUTS);
  const inputs = session.inputNames;
  const missingOutputs = expectedOutputs.filter((name) => !session.outputNames.includes(name));
  if (inputs.length !== 1 || inputs[0] !== MODEL_INPUT || missingOutputs.length > 0) {
    throw new ModelLoadError(
      `model ${path} does not match the contract: expected input [${MODEL_INPUT}] and outputs ` +
        `[${expectedOutputs.join(', ')}], got inputs [${inputs.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
    );
  }
  const types: Record<string, string> = {
    [MODEL_INPUT]: 'string',
    [MODEL_OUTPUTS.label]: 'string',
    [MODEL_OUTPUTS.probabilities]: 'float32',
    [MODEL_OUTPUTS.classes]: 'string',
  };
  for (const meta of [...session.inputMetadata, ...session.outputMetadata]) {
    const expected = types[meta.name];
    const actual = meta.isTensor ? meta.type : 'non-tensor';
    if (expected !== undefined && actual !== expected) {
      throw new ModelLoadError(`model ${path}: ${meta.name} must be a ${expected} tensor (got ${actual})`);
    }
  }
}

function checkLabels(classes: Tensor, path: string): string[] {
  const labels = classes.data as string[];
  if (classes.dims.length !== 1 || labels.length < 2) {
    throw new ModelLoadError(
      `model ${path}: classes must be a [C] tensor with C >= 2 (got dims [${classes.dims}])`,
    );
  }
  if (new Set(labels).size !== labels.length || labels.some((label) => label === '')) {
    throw new ModelLoadError(
      `model ${path}: classes must be distinct non-empty labels (got ${JSON.stringify(labels)})`,
    );
  }
  return labels;
}

/** A loaded, warmed-up ONNX session; construct with {@link loadClassifier}. */
export class OnnxClassifier implements Classifier {
  private readonly fetches = [MODEL_OUTPUTS.label, MODEL_OUTPUTS.probabilities];
  private readonly batcher = new MicroBatcher(
    (sentences: string[]) => this.run(sentences),
    MAX_CALL_SENTENCES,
  );

  private constructor(
    private readonly session: InferenceSession,
    readonly info: ModelInfo,
  ) {}

  /** @internal Use loadClassifier. */
  static async create(
    session: InferenceSession,
    name: string,
    sha256: string,
    path: string,
  ): Promise<OnnxClassifier> {
    checkSignature(session, path);
    // The warm-up run also reads the label order, so the first real request pays no first-run cost.
    const out = await session.run({ [MODEL_INPUT]: new Tensor('string', [WARM_UP_SENTENCE], [1]) });
    const labels = checkLabels(out[MODEL_OUTPUTS.classes]!, path);
    const probabilities = out[MODEL_OUTPUTS.probabilities]!;
    if (probabilities.dims.length !== 2 || probabilities.dims[1] !== labels.length) {
      throw new ModelLoadError(
        `model ${path}: probabilities must be [N, ${labels.length}] to match classes (got [${probabilities.dims}])`,
      );
    }
    // A second run at the largest call size sizes ORT's memory arena before traffic arrives.
    await session.run({
      [MODEL_INPUT]: new Tensor('string', Array(MAX_CALL_SENTENCES).fill(WARM_UP_SENTENCE), [
        MAX_CALL_SENTENCES,
      ]),
    });
    return new OnnxClassifier(session, Object.freeze({ name, sha256, labels: Object.freeze(labels) }));
  }

  async predict(sentences: readonly string[]): Promise<ClassifierResult> {
    const { results, seconds, callSize, firstInCall } = await this.batcher.submit(sentences);
    return { predictions: results, seconds, callSize, firstInCall };
  }

  /** One inference call over all the sentences. */
  private async run(sentences: string[]): Promise<Prediction[]> {
    const out = await this.session.run(
      { [MODEL_INPUT]: new Tensor('string', sentences, [sentences.length]) },
      this.fetches,
    );
    const labels = out[MODEL_OUTPUTS.label]!.data as string[];
    const probabilities = out[MODEL_OUTPUTS.probabilities]!.data as Float32Array;
    const classes = this.info.labels;
    const width = classes.length;
    return labels.map((label, row) => {
      const byLabel: Record<string, number> = {};
      for (let column = 0; column < width; column++) {
        byLabel[classes[column]!] = probabilities[row * width + column]!;
      }
      return { label, probabilities: byLabel };
    });
  }

  /** Frees the native session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Loads the model once: reads the file, hashes it, creates the session (one intra-op thread, since
 * several replicas share a host), checks the contract and runs one warm-up inference.
 * @throws ModelLoadError with a message naming the path and what is wrong.
 */
export async function loadClassifier(path: string): Promise<OnnxClassifier> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : describe(error);
    throw new ModelLoadError(`cannot read model ${path}: ${reason} (set MODEL_PATH to the .onnx file)`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new ModelLoadError(`model ${path} is not a loadable ONNX model: ${describe(error)}`);
  }
  try {
    return await OnnxClassifier.create(session, basename(path, extname(path)), sha256, path);
  } catch (error) {
    await session.release();
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`model ${path} failed its warm-up inference: ${describe(error)}`);
  }
}
