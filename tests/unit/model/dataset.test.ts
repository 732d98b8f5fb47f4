import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, loadDataset, parseDataset } from '../../../model/src/dataset';

const fixtures = join(__dirname, '../../fixtures/model');

describe('loadDataset', () => {
  test('reads the fixture: rows, sorted labels, sha256 and the line each example starts on', () => {
    const ds = loadDataset(join(fixtures, 'tiny.csv'));
    expect(ds.file).toBe('tiny.csv');
    expect(ds.rows).toBe(42);
    expect(ds.labels).toEqual(['love', 'sadness', 'worry']);
    expect(ds.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Row 25 spans two physical lines, so every later row starts one line further down.
    expect(ds.examples[24]).toEqual({
      line: 26,
      label: 'sadness',
      text: 'it rained all day\nand i feel sad',
    });
    expect(ds.examples[25]?.line).toBe(28);
    expect(ds.examples[10]?.text).toBe('she said "I love you" and I melted');
  });

  test.each([
    ['empty.csv', /empty\.csv: empty file/],
    ['header-only.csv', /header-only\.csv:1: header only: no data rows/],
    [
      'missing-column.csv',
      /missing-column\.csv:1: missing column 'sentiment' \(header has 'tweet_id', 'emotion', 'content'\)/,
    ],
    ['missing-field.csv', /missing-field\.csv:3: wrong number of fields/],
    ['empty-text.csv', /empty-text\.csv:3: empty 'content'/],
    ['empty-label.csv', /empty-label\.csv:3: empty 'sentiment'/],
    ['bad-quoting.csv', /bad-quoting\.csv:3: bad quoting/],
    ['text-after-quote.csv', /text-after-quote\.csv:3: bad quoting/],
    ['unclosed-quote.csv', /unclosed-quote\.csv:3: unclosed quote/],
    ['single-class.csv', /single-class\.csv: only one class \('love'\)/],
    ['singleton-class.csv', /singleton-class\.csv:4: class 'worry' has a single row/],
  ])('rejects bad/%s with an error naming the file and line', (file, message) => {
    const load = (): unknown => loadDataset(join(fixtures, 'bad', file));
    expect(load).toThrow(DatasetError);
    expect(load).toThrow(message);
  });

  test('rejects bytes that are not UTF-8, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-dataset-'));
    try {
      const path = join(dir, 'latin1.csv');
      writeFileSync(
        path,
        Buffer.concat([
          Buffer.from('tweet_id,sentiment,content\n1,love,ok\n2,love,caf'),
          Buffer.from([0xe9, 0x0a]),
        ]),
      );
      expect(() => loadDataset(path)).toThrow(/latin1\.csv:3: not valid UTF-8/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseDataset', () => {
  test('accepts a BOM, CRLF line ends, extra columns in any order, and skips blank lines', () => {
    const csv = '\ufeffcontent,extra,sentiment\r\nhello there,x,joy\r\n\r\n"two\r\nlines",y,fear\r\n';
    expect(parseDataset(csv, 'x.csv')).toEqual([
      { line: 2, label: 'joy', text: 'hello there' },
      { line: 4, label: 'fear', text: 'two\r\nlines' },
    ]);
  });
});
