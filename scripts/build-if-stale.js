// `npm start`'s build step: runs tsc only when some source in src/ (or
// tsconfig.json) is newer than what it compiles to in dist/, so a start with
// nothing changed skips the ~15 s build. Works in the current directory.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const files = (dir) =>
  existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])) : [];
const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : -Infinity);

/** The first reason to build, or undefined when dist is up to date. */
function stale() {
  const sources = files('src').filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
  if (!sources.length) return 'no sources in src/';
  let oldest = Infinity;
  for (const src of sources) {
    const out = join('dist', src.replace(/\.([cm]?)ts$/, '.$1js'));
    const built = mtime(out);
    if (built < statSync(src).mtimeMs) return `${src} is newer than ${relative('.', out)}${built === -Infinity ? ' (missing)' : ''}`;
    oldest = Math.min(oldest, built);
  }
  if (mtime('tsconfig.json') > oldest) return 'tsconfig.json changed';
  return undefined;
}

const why = stale();
if (why === undefined) {
  console.log('build up to date');
} else {
  console.log(`building: ${why}`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
