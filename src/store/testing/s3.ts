/** The S3-compatible test server, for other contexts' tests that run against S3 blob storage. */
export { type RunningS3rver, S3RVER_CREDENTIALS, startS3rver } from '../blob/testing/s3rver-fixture.js';
