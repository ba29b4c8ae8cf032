// A real interruption for the examples: runs this same script as a child
// process with `args`, echoes its output, and kills it with SIGKILL as soon as
// it prints `killLine`. Resolves once the child is dead.
import { spawn } from 'node:child_process';

export function runUntilKilled(script: string, args: string[], killLine: string, prefix = ''): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        console.log(`${prefix}${line}`);
        if (line === killLine) {
          proc.kill('SIGKILL');
          console.log('Killed the training process with SIGKILL');
        }
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code ?? signal} before it was killed`)),
    );
  });
}
