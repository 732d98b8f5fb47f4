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

function describeCsvError(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'unclosed quote: the quoted field opened in this record is still open at the end of the file';
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `bad quoting (RFC 4180: quote the whole field and double inner quotes): ${err.message}`;
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return `wrong number of fields: ${err.message}`;
    default:
      return err.message;
  }
}

/**
 * Maps byte offsets to 1-based line numbers. csv-parse's own line counter drifts on CRLF files,
 * so records are located by the byte offsets it reports instead.
 */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly bytes: Buffer) {
    for (let i = 0; i < bytes.length; i += 1) if (bytes[i] === 0x0a) this.starts.push(i + 1);
  }

  /** Line of the first non-blank byte at or after `offset` (where the next record starts). */
  recordLine(offset: number): number {
    let pos = offset;
    while (pos < this.bytes.length && (this.bytes[pos] === 0x0a || this.bytes[pos] === 0x0d)) pos += 1;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

interface ParsedRecord {
  record: string[];
  info: { bytes: number };
}

/** Parses CSV bytes in the tweet_emotions layout; every error names the file and line. */
export function parseDataset(content: Buffer | string, file: string): Example[] {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  if (bytes.toString('utf8').trim() === '') {
    throw new DatasetError(file, undefined, 'empty file (expected a header and data rows)');
  }
  const lines = new LineIndex(bytes);
  let lastEnd = 0;
  let records: ParsedRecord[];
  try {
    records = parse(bytes, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      on_record: (record, context) => {
        lastEnd = context.bytes;
        return record;
      },
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (err instanceof CsvError)
      throw new DatasetError(file, lines.recordLine(lastEnd), describeCsvError(err));
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) throw new DatasetError(file, undefined, 'empty file (expected a header and data rows)');
  const headerLine = lines.recordLine(0);
  const columns = header.record.map((c) => c.trim());
  const missing = [LABEL_COLUMN, TEXT_COLUMN].filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new DatasetError(
      file,
      headerLine,
      `missing column ${missing.map((m) => `'${m}'`).join(', ')} (header has ${columns.map((c) => `'${c}'`).join(', ')})`,
    );
  }
  if (rows.length === 0) throw new DatasetError(file, headerLine, 'header only: no data rows after it');
  const labelAt = columns.indexOf(LABEL_COLUMN);
  const textAt = columns.indexOf(TEXT_COLUMN);
  let previousEnd = header.info.bytes;
  return rows.map(({ record, info }) => {
    const line = lines.recordLine(previousEnd);
    previousEnd = info.bytes;
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
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(file, undefined, `cannot read ${path}: ${(err as Error).message}`);
  }
  const badLine = firstInvalidUtf8Line(bytes);
  if (badLine !== undefined) throw new DatasetError(file, badLine, 'not valid UTF-8');
  const examples = parseDataset(bytes, file);
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) {
    throw new DatasetError(
      file,
      undefined,
      `only one class ('${labels[0] ?? ''}'): a classifier needs at least two`,
    );
  }
  for (const label of labels) {
    const rows = examples.filter((e) => e.label === label);
    if (rows.length < 2) {
      throw new DatasetError(
        file,
        rows[0]?.line,
        `class '${label}' has a single row: the stratified split needs at least 2 per class`,
      );
    }
  }
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    rows: examples.length,
    examples,
    labels,
  };
}
