#!/usr/bin/env node
// The resumable-pipeline command: `inspect DIR` and `verify DIR` (read-only;
// safe beside a live writer). Exit codes: 0 success, 1 verify found something
// corrupt, 2 usage error or unreadable directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inspectDirectory, type DirectoryReport } from '../checkpoint/inspect.js';
import { metricOf, rankByMetric } from '../checkpoint/retention.js';
import { packageRoot } from '../native.js';
import { stateToJson } from './state-json.js';
import { clip, formatBytes, formatTable } from './table.js';

const USAGE = `Usage: resumable-pipeline <command> DIR [--json] [--metric NAME [--mode min|max]]

DIR is a checkpoint directory, or s3://bucket/prefix (needs @aws-sdk/client-s3;
credentials, region and endpoint from the AWS SDK's usual chain: AWS_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL_S3, ...).

Commands:
  inspect DIR   list every step file: step, size, time, metadata, valid or corrupt
  verify DIR    check every step file; exit 1 if any is corrupt

Options:
  --json        machine-readable output (one JSON object)
  --metric NAME add a column with metadata[NAME] and each step's rank by it
                (keepBest's metric); steps without a number there have no rank
  --mode M      min (default: lower is better, a loss) or max (an accuracy)
  -h, --help    show this help
  -v, --version show the package version

Exit codes: 0 success, 1 verify found a corrupt file, 2 usage error or unreadable directory.`;

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

function corruptCount(report: DirectoryReport): number {
  return report.steps.filter((s) => !s.valid).length + report.setAside.length;
}

/** The metric column: each step's metric and its rank (1 = best), from retention's own ranking. */
interface MetricColumn {
  name: string;
  mode: 'min' | 'max';
  value: Map<number, number | undefined>;
  rank: Map<number, number>;
}

function metricColumn(report: DirectoryReport, name: string, mode: 'min' | 'max'): MetricColumn {
  const value = new Map(report.steps.map((s) => [s.step, s.valid ? metricOf(s.metadata, name) : undefined]));
  const rank = new Map(rankByMetric(value, mode).map((step, i) => [step, i + 1]));
  return { name, mode, value, rank };
}

function toJson(report: DirectoryReport, command: string, metric: MetricColumn | undefined) {
  return {
    command,
    directory: report.directory,
    ok: corruptCount(report) === 0,
    ...(metric === undefined ? {} : { metric: { name: metric.name, mode: metric.mode } }),
    steps: report.steps.map((s) => ({
      step: s.step,
      file: s.file,
      size: s.size,
      time: new Date(s.time).toISOString(),
      valid: s.valid,
      ...(s.valid ? { metadata: stateToJson(s.metadata!) } : { reason: s.reason }),
      ...(metric === undefined ? {} : { metric: metric.value.get(s.step) ?? null, rank: metric.rank.get(s.step) ?? null }),
    })),
    setAside: report.setAside,
    tempFiles: report.tempFiles,
  };
}

function renderInspect(report: DirectoryReport, io: Output, metric: MetricColumn | undefined): void {
  io.out(`${report.directory}: ${report.steps.length} step file(s)`);
  if (report.steps.length > 0) {
    const rows = report.steps.map((s) => [
      String(s.step),
      formatBytes(s.size),
      new Date(s.time).toISOString(),
      s.valid ? 'valid' : `CORRUPT: ${s.reason}`,
      ...(metric === undefined ? [] : [String(metric.value.get(s.step) ?? '-'), String(metric.rank.get(s.step) ?? '-')]),
      s.valid ? clip(JSON.stringify(stateToJson(s.metadata!)), 60) : '-',
    ]);
    const metricHeader = metric === undefined ? [] : [metric.name.toUpperCase(), `RANK (${metric.mode})`];
    io.out(formatTable(['STEP', 'SIZE', 'TIME', 'STATUS', ...metricHeader, 'METADATA'], rows));
  }
  renderExtras(report, io);
}

function renderVerify(report: DirectoryReport, io: Output): void {
  for (const s of report.steps.filter((s) => !s.valid)) io.out(`CORRUPT ${s.file}: ${s.reason}`);
  renderExtras(report, io);
  const bad = corruptCount(report);
  const valid = report.steps.length - report.steps.filter((s) => !s.valid).length;
  io.out(bad === 0 ? `OK: ${valid} valid step file(s) in ${report.directory}` : `FAILED: ${bad} corrupt file(s) in ${report.directory}`);
}

function renderExtras(report: DirectoryReport, io: Output): void {
  for (const file of report.setAside) io.out(`CORRUPT (set aside by a writer) ${file}`);
  if (report.tempFiles.length > 0) {
    io.out(`${report.tempFiles.length} temp file(s) of a save in progress or a crashed writer (the next writer removes them)`);
    for (const file of report.tempFiles) io.out(`TEMP ${file}`);
  }
}

/** Runs the CLI with argv (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        metric: { type: 'string' },
        mode: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.version) {
    io.out((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  const [command, dir, ...rest] = positionals;
  if ((command !== 'inspect' && command !== 'verify') || dir === undefined || rest.length > 0) {
    io.err(command === undefined ? USAGE : `expected "inspect DIR" or "verify DIR", got "${positionals.join(' ')}"\n\n${USAGE}`);
    return 2;
  }
  if (values.mode !== undefined && values.mode !== 'min' && values.mode !== 'max') {
    io.err(`--mode must be min or max, got "${values.mode}"\n\n${USAGE}`);
    return 2;
  }
  if (values.mode !== undefined && values.metric === undefined) {
    io.err(`--mode needs --metric NAME\n\n${USAGE}`);
    return 2;
  }
  if (values.metric === '') {
    io.err(`--metric needs a name\n\n${USAGE}`);
    return 2;
  }
  let report: DirectoryReport;
  try {
    report = await inspectDirectory(dir);
  } catch (err) {
    io.err(`resumable-pipeline ${command}: cannot read ${dir}: ${(err as Error).message}`);
    return 2;
  }
  const metric = values.metric === undefined ? undefined : metricColumn(report, values.metric, (values.mode ?? 'min') as 'min' | 'max');
  if (values.json) io.out(JSON.stringify(toJson(report, command, metric), null, 2));
  else if (command === 'inspect') renderInspect(report, io, metric);
  else renderVerify(report, io);
  return command === 'verify' && corruptCount(report) > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
