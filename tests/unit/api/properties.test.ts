/** @jest-environment ./tests/unit/api/onnx-environment.ts */
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { API_ROUTES } from '../../../deployments/names';
import { createApp } from '../../../services/api/src/app';
import { loadClassifier, type OnnxClassifier } from '../../../services/api/src/classifier';
import { DEFAULT_MODEL_PATH } from '../../../services/api/src/settings';

// Bounded so the property suite stays a few seconds with the real model on a busy 2-core machine.
const RUNS = { numRuns: 200 };

let classifier: OnnxClassifier;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  classifier = await loadClassifier(DEFAULT_MODEL_PATH);
  app = createApp({
    variant: 'v2',
    classifier,
    replicaId: 'prop',
    registry: new Registry(),
    collectDefaultMetrics: false,
  });
});
afterAll(() => classifier.close());

/** Sends the raw body and checks the invariant: no 5xx, a JSON body, and the error shape on 4xx. */
async function assertWellFormed(
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<number> {
  const res = await app.request(API_ROUTES.predict, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const json = (await res.json()) as { prediction?: unknown; predictions?: unknown };
  if (res.status >= 400) {
    expect(json).toEqual({
      error: {
        code: expect.any(String),
        message: expect.any(String),
        field: expect.anything(),
        requestId: res.headers.get('x-request-id'),
      },
    });
  } else {
    expect(typeof (json.prediction ?? json.predictions)).not.toBe('undefined');
  }
  return res.status;
}

describe('POST /predict properties (fast-check, real model)', () => {
  it('any JSON value as the body gives a JSON answer and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const status = await assertWellFormed(JSON.stringify(value));
        expect([200, 422]).toContain(status);
      }),
      RUNS,
    );
  });

  it('any string as the raw body gives a JSON answer and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (raw) => {
        await assertWellFormed(raw);
      }),
      RUNS,
    );
  });

  it('any bytes, under any content type, give a JSON answer and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/octet-stream',
          'application/json; charset=latin1',
        ),
        async (bytes, contentType) => {
          await assertWellFormed(bytes, contentType);
        },
      ),
      RUNS,
    );
  });

  it('any string as the sentence is either classified (200) or rejected as blank or too long (422)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 6000 }),
        ),
        async (sentence) => {
          const status = await assertWellFormed(JSON.stringify({ sentence }));
          const characters = [...sentence].length;
          const expected = sentence.trim() === '' || characters > 5000 ? 422 : 200;
          expect(status).toBe(expected);
        },
      ),
      RUNS,
    );
  });

  it('any object with arbitrary sentence/sentences values gives a JSON answer and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            sentence: fc.anything(),
            sentences: fc.oneof(fc.array(fc.anything(), { maxLength: 70 }), fc.anything()),
          },
          { requiredKeys: [] },
        ),
        async (value) => {
          let body: string;
          try {
            body = JSON.stringify(value) ?? 'null';
          } catch {
            return; // fc.anything() can produce BigInt, which has no JSON form
          }
          await assertWellFormed(body);
        },
      ),
      RUNS,
    );
  });
});
