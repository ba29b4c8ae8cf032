// npm run fuzz -- --seconds N [--seed S] [--replay SEED[,SEED...]] [--jobs J] [--batch B] [--case-timeout S]
// Throws random wrong and edge inputs at every export of the package (and the
// raw native binding) in child processes; exits 1 on any crash or hang and
// prints the seed and the command that replays it. See test/fuzz/.
import { distWarning, formatReport, type FuzzOptions, runFuzz } from '../test/fuzz/runner.js';

function usage(message?: string): never {
  if (message !== undefined) console.error(`fuzz: ${message}`);
  console.error('usage: npm run fuzz -- --seconds N [--seed S] [--replay SEED[,SEED...]] [--max-cases N] [--jobs J] [--batch B] [--case-timeout SECONDS] [--bisect-seconds N] [--trace] [--root DIR]');
  process.exit(2);
}

function parse(argv: string[]): FuzzOptions {
  const opts: FuzzOptions = { seconds: 60, log: (line) => console.log(line) };
  const num = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${name} needs a non-negative number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--seconds': opts.seconds = num(value(), flag); break;
      case '--seed': opts.seed = num(value(), flag); break;
      case '--replay': {
        const v = value() ?? usage('--replay needs a seed');
        opts.replay = v.split(',').map((s) => num(s, flag));
        opts.passStderr = true;
        break;
      }
      case '--max-cases': opts.maxCases = num(value(), flag); break;
      case '--jobs': opts.jobs = num(value(), flag); break;
      case '--batch': opts.batch = num(value(), flag); break;
      case '--case-timeout': opts.caseTimeoutMs = num(value(), flag) * 1000; break;
      case '--bisect-seconds': opts.bisectSeconds = num(value(), flag); break;
      case '--root': opts.root = value() ?? usage('--root needs a directory'); break;
      case '--trace': opts.env = { ...opts.env, RP_FUZZ_TRACE: '1' }; break;
      case '--help': case '-h': usage();
      default: usage(`unknown argument ${arg}`);
    }
  }
  const selftest = process.env['RP_FUZZ_SELFTEST'];
  if (selftest !== undefined) opts.env = { ...opts.env, RP_FUZZ_SELFTEST: selftest };
  return opts;
}

async function main(): Promise<void> {
  // Exit through 'exit' handlers, which kill the child processes still running.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));
  const opts = parse(process.argv.slice(2));
  const warning = distWarning(opts.root ?? `${__dirname}/..`);
  if (warning !== undefined) console.warn(`fuzz: warning: ${warning}`);
  console.log(opts.replay !== undefined ? `fuzz: replaying seed ${opts.replay.join(',')}` : `fuzz: ${opts.seconds} s${opts.seed !== undefined ? `, from seed ${opts.seed}` : ''}`);
  const report = await runFuzz(opts);
  console.log(formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
}

void main();
