import { z } from '@hono/zod-openapi';
import type { ApiVariant } from '../../../deployments/names';

/** Longest accepted sentence, in characters (Unicode code points). */
export const MAX_SENTENCE_CHARS = 5000;
/** Largest accepted batch of sentences. */
export const MAX_BATCH_SIZE = 64;
/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Machine-readable error codes of the JSON error body. */
export type ErrorCode =
  | 'malformed_json'
  | 'unreadable_body'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'missing_field'
  | 'invalid_type'
  | 'empty_value'
  | 'too_long'
  | 'invalid_batch_size'
  | 'conflicting_fields'
  | 'not_found'
  | 'method_not_allowed'
  | 'internal_error';

/** What went wrong; the app adds the request id to make the response body (see ErrorResponse). */
export interface ApiError {
  error: { code: ErrorCode; message: string; field: string | null };
}

/** Builds an error (code, message, and the field it is about, or null). */
export function apiError(code: ErrorCode, message: string, field: string | null = null): ApiError {
  return { error: { code, message, field } };
}

const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

const Sentence = z
  .string()
  .refine((text) => text.trim().length > 0, { params: { code: 'empty_value' } })
  // .length counts UTF-16 units, never fewer than code points, so the count only runs on long input.
  .refine((text) => text.length <= MAX_SENTENCE_CHARS || codePoints(text) <= MAX_SENTENCE_CHARS, {
    params: { code: 'too_long' },
  })
  .openapi({ description: `Text to classify: not blank, at most ${MAX_SENTENCE_CHARS} characters.` });

/** `{"sentence": "..."}`: one sentence. */
export const SinglePredictRequest = z
  .object({ sentence: Sentence })
  .openapi('SinglePredictRequest', { example: { sentence: 'I love this!' } });

/** `{"sentences": [...]}`: 1 to 64 sentences, classified with one inference call. */
export const BatchPredictRequest = z
  .object({ sentences: z.array(Sentence).min(1).max(MAX_BATCH_SIZE) })
  .openapi('BatchPredictRequest', { example: { sentences: ['I love this!', 'so tired of waiting'] } });

/** A validated request: the sentences, and whether the client sent the batch form. */
export interface PredictInput {
  sentences: string[];
  batch: boolean;
}

export type ParseResult = { ok: true; input: PredictInput } | { ok: false; error: ApiError };

const fieldName = (path: readonly PropertyKey[]): string =>
  path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}

function toApiError(issue: z.core.$ZodIssue, body: unknown): ApiError {
  const field = fieldName(issue.path);
  const value = valueAt(body, issue.path);
  if (issue.code === 'invalid_type') {
    return value === undefined
      ? apiError('missing_field', `${field} is required`, field)
      : apiError(
          'invalid_type',
          `${field} must be a${issue.expected === 'array' ? 'n' : ''} ${issue.expected}`,
          field,
        );
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const size = Array.isArray(value) ? value.length : 0;
    return apiError(
      'invalid_batch_size',
      `${field} must contain 1 to ${MAX_BATCH_SIZE} sentences (got ${size})`,
      field,
    );
  }
  if (issue.code === 'custom' && issue.params?.code === 'too_long') {
    const length = codePoints(String(value));
    return apiError(
      'too_long',
      `${field} must be at most ${MAX_SENTENCE_CHARS} characters (got ${length})`,
      field,
    );
  }
  return apiError('empty_value', `${field} must not be empty or whitespace-only`, field);
}

/**
 * Validates a parsed JSON body as a single or batch prediction request.
 * Errors name the offending field, e.g. `sentences[3]`.
 */
export function parsePredictRequest(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: apiError('invalid_type', 'request body must be a JSON object', 'body') };
  }
  const isBatch = 'sentences' in body;
  if (isBatch && 'sentence' in body) {
    return {
      ok: false,
      error: apiError('conflicting_fields', 'send either sentence or sentences, not both', 'sentences'),
    };
  }
  if (isBatch) {
    const parsed = BatchPredictRequest.safeParse(body);
    return parsed.success
      ? { ok: true, input: { sentences: parsed.data.sentences, batch: true } }
      : { ok: false, error: toApiError(parsed.error.issues[0]!, body) };
  }
  const parsed = SinglePredictRequest.safeParse(body);
  return parsed.success
    ? { ok: true, input: { sentences: [parsed.data.sentence], batch: false } }
    : { ok: false, error: toApiError(parsed.error.issues[0]!, body) };
}

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'missing_field' }),
      message: z.string().openapi({ example: 'sentence is required' }),
      field: z.string().nullable().openapi({ example: 'sentence' }),
      requestId: z.string().openapi({
        description:
          'The X-Request-ID of the request, as in the response header, the access log and nginx errors.',
      }),
    }),
  })
  .openapi('Error');

const label = z.string().openapi({ example: 'love' });
const probabilities = z
  .record(z.string(), z.number())
  .openapi({ description: 'Every label of the model -> probability; the values sum to 1.' });

const PredictionV1 = z
  .object({
    prediction: label,
    'prediction value': label.openapi({
      description: 'Compatibility alias of `prediction`, read by clients of the classroom API this replaces.',
    }),
    version: z.literal('v1'),
    replica: z.string().openapi({ description: 'REPLICA_ID of the replica that answered.' }),
  })
  .openapi('PredictionV1');

const PredictionV2 = z
  .object({
    prediction: label,
    'prediction value': label.openapi({ description: 'Compatibility alias of `prediction`.' }),
    version: z.literal('v2'),
    replica: z.string().openapi({ description: 'REPLICA_ID of the replica that answered.' }),
    probabilities,
    prediction_proba_dict: probabilities.openapi({
      description: 'Compatibility alias of `probabilities`, read by clients of the classroom v2 API.',
    }),
    model: z.object({
      name: z.string().openapi({ example: 'sentiment' }),
      sha256: z.string().openapi({ description: 'sha256 of the model file.' }),
      labels: z.array(z.string()).openapi({ description: 'Labels in the model column order.' }),
      label_count: z.number().int(),
    }),
    latency_ms: z
      .number()
      .openapi({ description: 'Inference time of the call that produced this prediction.' }),
  })
  .openapi('PredictionV2');

/** The documented response schemas of one variant. */
export function predictionSchemas(variant: ApiVariant) {
  const single = variant === 'v1' ? PredictionV1 : PredictionV2;
  return {
    single,
    batch: z.object({ predictions: z.array(single) }).openapi(`BatchPrediction${variant.toUpperCase()}`),
  };
}

export const HealthResponse = z.object({ status: z.literal('ok') }).openapi('Health');
export const ReadyResponse = z.object({ status: z.enum(['ready', 'draining']) }).openapi('Ready', {
  description: '`ready` once the model is loaded and warmed up; `draining` (503) on shutdown.',
});
