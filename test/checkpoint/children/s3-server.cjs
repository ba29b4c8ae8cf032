// An S3-compatible server (s3rver) on 127.0.0.1, in its own process so a test
// can SIGKILL it mid-request. argv: directory, port (0: any free one), and
// optionally a regular expression of request paths to hang forever (the
// request never answers: a server that dies mid-save). Prints {"port":N},
// then one line per request as it starts, with the headers the tests check.
const S3rver = require('s3rver');

const [directory, port, hang] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, configureBuckets: [{ name: 'ckpt' }] });
const hangOn = hang === undefined || hang === '' ? undefined : new RegExp(hang);
// First in the chain: log each request as it starts, and hang the chosen ones.
server.middleware.unshift(async (ctx, next) => {
  const headers = {};
  for (const name of ['if-none-match', 'if-match', 'x-amz-checksum-crc32c', 'x-amz-sdk-checksum-algorithm', 'content-encoding']) {
    if (ctx.get(name) !== '') headers[name] = ctx.get(name);
  }
  process.stdout.write(`${JSON.stringify({ request: ctx.method, path: ctx.path, headers })}\n`);
  if (hangOn !== undefined && ctx.method === 'PUT' && hangOn.test(ctx.path)) await new Promise(() => {});
  await next();
});
server.run().then(
  (info) => process.stdout.write(`${JSON.stringify({ port: info.port })}\n`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
