// The CLI reads s3://bucket/prefix through S3StepStore with the SDK's default
// client (endpoint and credentials from the environment, as users configure
// them), and without the SDK installed an s3:// location fails with a code
// that says what to install.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineCheckpoint, S3StepStore } from '../../../src/index.js';
import { CHILDREN, CLI, ROOT } from '../../helpers/child-process.js';
import { BUCKET, S3Server } from '../../helpers/s3-server.js';

const server = new S3Server();
beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.stop();
});

/** The SDK's usual chain, pointed at the loopback server. */
function sdkEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_MAX_ATTEMPTS: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

describe('the CLI on s3://bucket/prefix', () => {
  it('inspect lists the steps and verify finds a damaged one (exit 1)', async () => {
    const prefix = 'cli/run';
    const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: new S3StepStore({ bucket: BUCKET, prefix, clientConfig: server.clientConfig() }) });
    for (const step of [10, 20]) await ckpt.save({ getState: () => ({ step }), setState() {} }, { step, metadata: { loss: step / 100 } });
    await ckpt.close();

    const inspect = spawnSync(process.execPath, [CLI, 'inspect', `s3://${BUCKET}/${prefix}`, '--json'], { encoding: 'utf8', env: sdkEnv(), timeout: 30_000 });
    expect(inspect.stderr).toBe('');
    expect(inspect.status).toBe(0);
    const report = JSON.parse(inspect.stdout) as { directory: string; steps: Array<{ step: number; file: string; valid: boolean }> };
    expect(report.directory).toBe(`s3://${BUCKET}/${prefix}`);
    expect(report.steps.map((s) => [s.step, s.file, s.valid])).toEqual([
      [10, `s3://${BUCKET}/${prefix}/step_10.msgpack`, true],
      [20, `s3://${BUCKET}/${prefix}/step_20.msgpack`, true],
    ]);

    const client = server.client();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/step_20.msgpack`, Body: 'not a step file' }));
    client.destroy();
    const verify = spawnSync(process.execPath, [CLI, 'verify', `s3://${BUCKET}/${prefix}`], { encoding: 'utf8', env: sdkEnv(), timeout: 30_000 });
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain(`FAILED: 1 corrupt file(s) in s3://${BUCKET}/${prefix}`);
  });

  it('a server that cannot be reached is exit 2 with the reason', () => {
    const env = { ...sdkEnv(), AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' };
    const out = spawnSync(process.execPath, [CLI, 'inspect', `s3://${BUCKET}/x`], { encoding: 'utf8', env, timeout: 30_000 });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`cannot read s3://${BUCKET}/x`);
  });
});

describe('without @aws-sdk/client-s3 installed', () => {
  it('an s3:// location fails with RP_DEPENDENCY_MISSING saying what to install', () => {
    const script = `
      const { PipelineCheckpoint } = require(${JSON.stringify(join(ROOT, 'dist/cjs/index.js'))});
      const ckpt = new PipelineCheckpoint('s3://some-bucket/run'); // constructing needs no SDK yet
      Promise.allSettled([ckpt.steps(), ckpt.save({ getState: () => 1, setState() {} }, { step: 1 })]).then((r) =>
        console.log(JSON.stringify(r.map((x) => ({ code: x.reason.code, message: x.reason.message })))));`;
    const out = spawnSync(process.execPath, ['--import', join(CHILDREN, 'without-aws-sdk.mjs'), '-e', script], { encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
    expect(out.stderr).toBe('');
    const message = 'S3StepStore needs the AWS SDK for S3, an optional peer dependency of resumable-pipeline: npm install @aws-sdk/client-s3';
    expect(JSON.parse(out.stdout)).toEqual([
      { code: 'RP_DEPENDENCY_MISSING', message },
      { code: 'RP_DEPENDENCY_MISSING', message },
    ]);
  });
});
