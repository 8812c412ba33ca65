/** Polls `f` every `everyMs` until it answers something truthy (returned), or fails after `ms`: tests wait for what they measure. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}
