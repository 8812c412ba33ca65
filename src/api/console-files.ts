/**
 * Serves the web console (console/, built by Vite into dist/console) at
 * /console from the API's own origin, so the browser signs API calls for the
 * same host and needs no CORS. Hashed assets are cached for good; every other
 * path under /console is the single page (index.html), which routes itself.
 * Nothing is fetched from outside: the bundle holds everything.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

/** dist/src/api/console-files.js → dist/console. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Whether a GET of `url` is the console's. */
export const isConsolePath = (url: string) => url === '/console' || url.startsWith('/console/') || url.startsWith('/console?');

export async function serveConsole(url: string, res: ServerResponse, dir = CONSOLE_DIR): Promise<void> {
  const path = decodeURIComponent(url.split(/[?#]/)[0]!);
  if (path === '/console') {
    res.writeHead(308, { location: '/console/' }).end();
    return;
  }
  const rel = normalize(path.slice('/console/'.length));
  const asset = rel.startsWith(`assets${sep}`) && !rel.includes('..');
  const file = join(dir, asset ? rel : 'index.html');
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': asset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  } catch {
    if (asset) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end('The console is not built: run `npm run build` (it runs `vite build` for console/).\n');
  }
}
