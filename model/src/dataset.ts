import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';

/** One labelled example and the (1-based) CSV line it starts on. */
export interface Example {
  line: number;
  label: string;
  text: string;
}

/** A loaded data set with provenance for the model card. */
export interface Dataset {
  file: string;
  sha256: string;
  rows: number;
  examples: Example[];
  /** Sorted distinct labels. */
  labels: string[];
}

/** The columns a training CSV must have (tweet_emotions layout: `tweet_id,sentiment,content`). */
export const LABEL_COLUMN = 'sentiment';
export const TEXT_COLUMN = 'content';

/** A data problem, with the file and line it was found on. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(line === undefined ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
    this.name = 'DatasetError';
  }
}

/** First line whose bytes are not valid UTF-8, or undefined. */
function firstInvalidUtf8Line(bytes: Buffer): number | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line += 1;
      start = i + 1;
    }
  }
  return undefined;
}

function describeCsvError(err: CsvError, recordStartLine: number): { line: number; detail: string } {
  const at = typeof err.lines === 'number' ? err.lines : recordStartLine;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return {
        line: recordStartLine,
        detail: `unclosed quote: the quoted field opened here is still open at the end of the file (line ${at})`,
      };
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return {
        line: at,
        detail: `bad quoting (RFC 4180: quote the whole field and double inner quotes): ${err.message}`,
      };
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return { line: at, detail: `wrong number of fields: ${err.message}` };
    default:
      return { line: at, detail: err.message };
  }
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** The line a record starts on: csv-parse reports the line it ends on, and its raw text. */
function startLine({ raw, info }: ParsedRecord): number {
  const body = raw.replace(/^(?:\r?\n)+/, '');
  const newlines = body.split('\n').length - 1;
  return info.lines - newlines + (body.endsWith('\n') ? 1 : 0);
}

/** Parses CSV text in the tweet_emotions layout; every error names the file and line. */
export function parseDataset(content: string, file: string): Example[] {
  if (content.trim() === '')
    throw new DatasetError(file, undefined, 'empty file (expected a header and data rows)');
  let lastEnd = 0;
  let records: ParsedRecord[];
  try {
    records = parse(content, {
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      on_record: (record, context) => {
        lastEnd = context.lines;
        return record;
      },
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (err instanceof CsvError) {
      const { line, detail } = describeCsvError(err, lastEnd + 1);
      throw new DatasetError(file, line, detail);
    }
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) throw new DatasetError(file, undefined, 'empty file (expected a header and data rows)');
  const columns = header.record.map((c) => c.trim());
  const missing = [LABEL_COLUMN, TEXT_COLUMN].filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DatasetError(
      file,
      startLine(header),
      `missing column ${missing.map((m) => `'${m}'`).join(', ')} (header has ${columns.map((c) => `'${c}'`).join(', ')})`,
    );
  }
  if (rows.length === 0) throw new DatasetError(file, undefined, 'no data rows after the header');
  const labelAt = columns.indexOf(LABEL_COLUMN);
  const textAt = columns.indexOf(TEXT_COLUMN);
  return rows.map((parsed) => {
    const { record } = parsed;
    const line = startLine(parsed);
    const label = (record[labelAt] ?? '').trim();
    const text = record[textAt] ?? '';
    if (label === '') throw new DatasetError(file, line, `empty '${LABEL_COLUMN}'`);
    if (text.trim() === '') throw new DatasetError(file, line, `empty '${TEXT_COLUMN}'`);
    return { line, label, text };
  });
}

/** Reads and validates a training CSV (UTF-8, RFC 4180), requiring at least two classes. */
export function loadDataset(path: string): Dataset {
  const file = basename(path);
  const bytes = readFileSync(path);
  const badLine = firstInvalidUtf8Line(bytes);
  if (badLine !== undefined) throw new DatasetError(file, badLine, 'not valid UTF-8');
  const examples = parseDataset(bytes.toString('utf8'), file);
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) {
    throw new DatasetError(
      file,
      undefined,
      `only one class ('${labels[0] ?? ''}'): a classifier needs at least two`,
    );
  }
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    rows: examples.length,
    examples,
    labels,
  };
}
