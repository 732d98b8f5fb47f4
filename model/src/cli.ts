import { parseArgs } from 'node:util';
import { loadDataset, DatasetError } from './dataset';
import { DEFAULT_TRAINING, runTraining, writeArtifacts, type TrainingSettings } from './train';

const USAGE = `usage: npm run train -- --data <csv> [--out model/] [--seed 42]
       [--c 0.25,0.5] [--class-weight-power 0.5,0.6] [--min-df 2] [--max-features 10000]
       [--char-max-features 10000]   (0 = word n-grams only)   [--macro-f1-floor 0.205]
Trains the emotion classifier on a tweet_emotions-layout CSV (tweet_id,sentiment,content), selects
hyperparameters on a validation split of the training part, reports held-out metrics, then refits
on all rows and writes <out>/sentiment.onnx and <out>/model-card.json.
List options give the values model selection tries; it keeps the most accurate candidate whose
cross-validated macro-F1 reaches --macro-f1-floor.`;

/** Parses a comma-separated list of numbers, naming the option on error. */
function numbers(option: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const parsed = value.split(',').map((v) => Number(v.trim()));
  if (parsed.length === 0 || parsed.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new RangeError(
      `--${option} must be a comma-separated list of non-negative numbers (got '${value}')`,
    );
  }
  return parsed;
}

/** Resolves CLI arguments into training settings and paths. */
export function parseCli(argv: string[]): { data: string; out: string; settings: TrainingSettings } | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      c: { type: 'string' },
      'class-weight-power': { type: 'string' },
      'min-df': { type: 'string' },
      'max-features': { type: 'string' },
      'char-max-features': { type: 'string' },
      'macro-f1-floor': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.data === undefined) throw new RangeError('--data <csv> is required');
  const seed = Number(values.seed ?? DEFAULT_TRAINING.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new RangeError(`--seed must be a non-negative integer (got '${values.seed}')`);
  const space = DEFAULT_TRAINING.space;
  const floor = numbers('macro-f1-floor', values['macro-f1-floor'], [DEFAULT_TRAINING.macroF1Floor]);
  if (floor.length !== 1 || (floor[0] ?? 0) > 1) {
    throw new RangeError(`--macro-f1-floor must be one number in [0, 1] (got '${values['macro-f1-floor']}')`);
  }
  const settings: TrainingSettings = {
    ...DEFAULT_TRAINING,
    seed,
    macroF1Floor: floor[0] ?? DEFAULT_TRAINING.macroF1Floor,
    space: {
      c: numbers('c', values.c, space.c),
      classWeightPower: numbers('class-weight-power', values['class-weight-power'], space.classWeightPower),
      minDf: numbers('min-df', values['min-df'], space.minDf),
      maxFeatures: numbers('max-features', values['max-features'], space.maxFeatures),
      charMaxFeatures: numbers('char-max-features', values['char-max-features'], space.charMaxFeatures),
    },
  };
  return { data: values.data, out: values.out ?? 'model/', settings };
}

function main(): void {
  const started = Date.now();
  const log = (message: string): void => {
    process.stderr.write(`[train ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
  };
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    log(`reading ${args.data}`);
    const dataset = loadDataset(args.data);
    log(`${dataset.rows} rows, ${dataset.labels.length} labels, sha256 ${dataset.sha256.slice(0, 12)}…`);
    const result = runTraining(dataset, args.settings, log);
    const { modelPath, cardPath } = writeArtifacts(result, args.out);
    const { heldOut, model } = result.card;
    log(`wrote ${modelPath} (${model.bytes} bytes) and ${cardPath}`);
    process.stdout.write(
      `${JSON.stringify({ model: modelPath, card: cardPath, accuracy: heldOut.accuracy, macroF1: heldOut.macroF1 })}\n`,
    );
  } catch (err) {
    if (err instanceof DatasetError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

if (require.main === module) main();
