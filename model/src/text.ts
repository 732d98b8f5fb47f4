/**
 * Text preprocessing shared by training, the TypeScript reference scorer and the ONNX graph.
 *
 * The ONNX graph runs `StringNormalizer(LOWER, C.UTF-8)` -> `StringConcat(" ", PAD_TOKEN)` ->
 * `Tokenizer(tokenexp = TOKEN_PATTERN)`; the functions here reproduce those three steps exactly
 * (the parity tests hold them to it), so the features the learner sees are the features ONNX
 * Runtime computes at serving time.
 */

/**
 * Token regex, ASCII only. ONNX Runtime compiles it with RE2 in leftmost-*longest* mode while
 * JavaScript is leftmost-*first*; every alternative starts with a different character class and
 * only ever grows greedily, so both engines pick the same match at every position.
 * - words: letters/digits with inner apostrophes (`don't`, `i'm`);
 * - `!` and `?` one at a time (so `!!!` counts three times);
 * - `@` (a reply/mention marker; the handle itself is a rare word that min_df drops);
 * - a capitalised word: lowercased text never contains one, so it only ever matches PAD_TOKEN.
 */
export const TOKEN_PATTERN = "[a-z0-9]+(?:'[a-z0-9]+)*|[!?@]|[A-Z][A-Za-z]*";

/**
 * Appended to every sentence in-graph so the Tokenizer never returns a `[N, 0]` tensor (it does
 * when no sentence of the batch has a token, and TfIdfVectorizer then fails). Upper case, so it
 * can never collide with a vocabulary term (those come from lowercased text).
 */
export const PAD_TOKEN = 'PAD';

/** Locale for StringNormalizer: `en_US.UTF-8` (the default) is missing on slim images. */
export const NORMALIZER_LOCALE = 'C.UTF-8';

const TOKEN_RE = new RegExp(TOKEN_PATTERN, 'g');
const ASCII = /^\p{ASCII}*$/u;

/** Lower-cases one code point like glibc's towlower: simple (1:1) case mapping only. */
function lowerCodePoint(cp: number): number {
  if (cp >= 0x41 && cp <= 0x5a) return cp + 32;
  if (cp < 0x80) return cp;
  // U+0130 (İ) has no 1:1 mapping in JavaScript's full case mapping ("i̇"); glibc maps it to "i".
  if (cp === 0x130) return 0x69;
  const lowered = String.fromCodePoint(cp).toLowerCase();
  const first = lowered.codePointAt(0);
  return first !== undefined && String.fromCodePoint(first) === lowered ? first : cp;
}

/**
 * Lower-cases like ONNX Runtime's `StringNormalizer(LOWER, locale C.UTF-8)` on Linux: per code
 * point, through wchar_t and the locale's towlower (checked against onnxruntime-node 1.30 by the
 * parity tests, including "İ" -> "i" and the Kelvin sign -> "k").
 */
export function normalize(text: string): string {
  // ASCII: towlower and toLowerCase agree (A-Z only).
  if (ASCII.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += String.fromCodePoint(lowerCodePoint(ch.codePointAt(0) ?? 0));
  return out;
}

/** Splits normalised text into tokens with TOKEN_PATTERN (no PAD_TOKEN). */
export function tokenizeNormalized(normalized: string): string[] {
  return normalized.match(TOKEN_RE) ?? [];
}

/** Raw sentence -> tokens, as the ONNX graph sees them (minus the trailing PAD_TOKEN). */
export function tokenize(text: string): string[] {
  return tokenizeNormalized(normalize(text));
}
