// `npm start`'s build step: runs tsc only when some source in src/ (or
// tsconfig.json) is newer than what it compiles to in dist/, and Vite only
// when the console's sources are newer than dist/console, so a start with
// nothing changed skips the build. Works in the current directory.
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

/** The console (console/ → dist/console, by Vite): stale when a source is newer than the built page. */
function consoleStale() {
  const built = mtime(join('dist', 'console', 'index.html'));
  const sources = [...files(join('console', 'src')), join('console', 'index.html'), join('console', 'vite.config.ts')];
  return sources.some((f) => mtime(f) > built) ? `console/ is newer than dist/console${built === -Infinity ? ' (missing)' : ''}` : undefined;
}

const run = (args) => spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
const req = createRequire(import.meta.url);
const why = stale();
if (why === undefined) {
  console.log('build up to date');
} else {
  console.log(`building: ${why}`);
  const status = run([req.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
  if (status) process.exit(status);
}
const consoleWhy = consoleStale();
if (consoleWhy) {
  console.log(`building the console: ${consoleWhy}`);
  // npm runs the package's own script (tsc -p console && vite build), as `npm run build` does.
  const npm = process.env.npm_execpath;
  const r = npm ? spawnSync(process.execPath, [npm, 'run', 'build:console'], { stdio: 'inherit' }) : spawnSync('npm', ['run', 'build:console'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
