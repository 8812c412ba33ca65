/** `npm start`'s build step (scripts/build-if-stale.js): tsc only when src/ changed. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/region.js';

const SCRIPT = join(ROOT, 'scripts/build-if-stale.js');

describe('npm start builds only when something changed', () => {
  it('builds a fresh tree, skips an unchanged one, rebuilds after a source or tsconfig change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-start-'));
    try {
      mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', outDir: 'dist', rootDir: '.' }, include: ['src'] }));
      writeFileSync(join(dir, 'src', 'cli', 'main.ts'), 'export const a: number = 1;\n');
      const start = () => {
        const r = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        return r.stdout;
      };
      assert.match(start(), /^building: src\/cli\/main\.ts is newer than dist\/src\/cli\/main\.js \(missing\)/);
      assert.match(readFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), 'utf8'), /export const a = 1/);
      assert.equal(start(), 'build up to date\n');

      /** Sets a file's modification time `seconds` ago. */
      const age = (f: string, seconds: number) => {
        const t = new Date(Date.now() - seconds * 1000);
        utimesSync(join(dir, f), t, t);
      };
      age('dist/src/cli/main.js', 20);
      writeFileSync(join(dir, 'src', 'cli', 'main.ts'), 'export const a: number = 2;\n');
      age('src/cli/main.ts', 10);
      assert.match(start(), /^building: src\/cli\/main\.ts is newer/);
      assert.match(readFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), 'utf8'), /export const a = 2/);
      assert.equal(start(), 'build up to date\n');

      age('src/cli/main.ts', 30);
      age('dist/src/cli/main.js', 20);
      age('tsconfig.json', 10);
      assert.match(start(), /^building: tsconfig\.json changed/);
      assert.equal(start(), 'build up to date\n');
      writeFileSync(join(dir, 'src', 'cli', 'new.ts'), 'export {};\n');
      assert.match(start(), /^building: src\/cli\/new\.ts is newer than dist\/src\/cli\/new\.js \(missing\)/);
      assert.ok(existsSync(join(dir, 'dist', 'src', 'cli', 'new.js')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm start runs it instead of the full build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.prestart, 'node scripts/build-if-stale.js');
  });
});
