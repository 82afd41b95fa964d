// Runs s3rver in its own process for the tests: `node --openssl-legacy-provider --import tsx
// s3rver-process.ts <directory> <bucket>`. s3rver encrypts ListObjectsV2 continuation tokens with
// DES, which Node's OpenSSL 3 only offers through the legacy provider. Prints `{"port":…}` once
// listening and exits when its stdin closes, so it never outlives the test process.
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
if (directory === undefined || bucket === undefined) {
  console.error('usage: s3rver-process.ts <directory> <bucket>');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  server.close().finally(() => process.exit(0));
});
