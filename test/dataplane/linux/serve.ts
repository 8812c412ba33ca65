/** A probe.ts server inside a namespace, and what it has received so far (the kernel e2e tests share it). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

export interface Server {
  lines: { proto: string; port: number; from: string; data?: string }[];
  child: ChildProcess;
}

/** Starts the server in `namespace` on the given ports; resolves once it listens. `children` collects the process for cleanup. */
export async function serve(namespace: string, tcpPorts: number[], udpPorts: number[], children: ChildProcess[]): Promise<Server> {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, PROBE, 'serve', tcpPorts.join(',') || '-', udpPorts.join(',') || '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const server: Server = { lines: [], child };
  let buf = '';
  await new Promise<void>((ready, fail) => {
    child.on('exit', (code) => fail(new Error(`probe server in ${namespace} exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'ready') ready();
        else server.lines.push(JSON.parse(line) as Server['lines'][number]);
      }
    });
  });
  return server;
}
