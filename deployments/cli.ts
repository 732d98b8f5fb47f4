/**
 * `npm run render -- --out <dir>`: writes every rendered config for the default settings, so a person
 * can read exactly what will be deployed. To add a file, add an entry to `renderedFiles()`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderMonitoringFiles, resolveMonitoringSettings } from './monitoring/files';
import { renderNginxConf, resolveNginxSettings } from './nginx';

/** One rendered file, relative to the output directory. */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

/** Every rendered file for the default settings (the Docker deployment). Secrets are never rendered here. */
export function renderedFiles(): RenderedFile[] {
  return [
    { path: 'nginx/nginx.conf', content: renderNginxConf(resolveNginxSettings()) },
    ...renderMonitoringFiles(resolveMonitoringSettings()),
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'dist/rendered' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    console.log('Usage: npm run render -- [--out <dir>]   (default dist/rendered)');
    return;
  }
  const outDir = path.resolve(values.out);
  for (const file of renderedFiles()) {
    const target = path.join(outDir, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content);
    console.log(`wrote ${path.relative(process.cwd(), target)}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
