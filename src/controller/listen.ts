/** `HOST:PORT` (or `[v6]:PORT`) as given to --listen options. */
export function splitHostPort(s: string): [string, number] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (!m) throw new Error(`--listen \`${s}\` must be HOST:PORT`);
  return [m[1]!, Number(m[2])];
}
