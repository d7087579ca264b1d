// The few parts of s3rver (a test-only S3 HTTP server, shipped without types) that the storage tests use.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  type S3rverOptions = {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string }[];
  };
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
