// A real S3-compatible server for the S3StepStore tests: npm's s3rver in a
// child process on 127.0.0.1 (loopback only), on a random port, with one
// bucket "ckpt". It can be killed mid-request and restarted on the same port
// and data. Its gaps (see README, "Many machines"): it ignores If-None-Match
// and If-Match, returns no CRC32C, and needs OpenSSL's legacy provider to page a listing.
import { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, CHILDREN } from './child-process.js';

// The SDK warns once per process that its 2027 releases need Node 22; these tests run on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const BUCKET = 'ckpt';

export class S3Server {
  readonly directory = mkdtempSync(join(tmpdir(), 'rp-s3rver-'));
  port = 0;
  private child: Child | undefined;

  /** Starts the server (on the port it had before, after a kill); `hang` is a path pattern whose PUTs never answer. */
  async start(hang = ''): Promise<this> {
    // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
    const child = new Child(process.execPath, ['--openssl-legacy-provider', join(CHILDREN, 's3-server.cjs'), this.directory, String(this.port), hang]);
    this.child = child;
    const line = await child.waitFor((l) => l.startsWith('{"port"'));
    this.port = (JSON.parse(line) as { port: number }).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The config of a client for this server (the SDK's retries off, so a dead server fails fast). */
  clientConfig(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
    };
  }

  client(): S3Client {
    return new S3Client(this.clientConfig());
  }

  /** Every request so far, in order, with the conditional and checksum headers it carried. */
  requests(): Array<{ request: string; path: string; headers: Record<string, string> }> {
    return this.child!.lines.filter((l) => l.startsWith('{"request"')).map((l) => JSON.parse(l) as never);
  }

  /** Resolves once a request whose path matches has started. */
  async requestStarted(method: string, path: RegExp): Promise<void> {
    await this.child!.waitFor((l) => {
      if (!l.startsWith('{"request"')) return false;
      const r = JSON.parse(l) as { request: string; path: string };
      return r.request === method && path.test(r.path);
    });
  }

  /** SIGKILL: every request in flight dies with the connection. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined) return;
    child.proc.kill('SIGKILL');
    await child.exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
