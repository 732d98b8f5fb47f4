/** A Dockerfile read the way the unit tests need it: shared by the API and the air-gapped images' tests. */

export interface Instruction {
  keyword: string;
  args: string;
  /** Name of the stage the instruction is in (`AS <name>`), '' for an unnamed stage. */
  stage: string;
}

/** Dockerfile -> instructions: joins `\` continuations, drops comments, records the stage of each. */
export function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  let stage = '';
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

/** The instructions of the last stage, its FROM included. */
export function lastStage(text: string): Instruction[] {
  const all = parseDockerfile(text);
  return all.slice(all.map((i) => i.keyword).lastIndexOf('FROM'));
}
