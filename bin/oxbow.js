#!/usr/bin/env node
// Entry point of the `oxbow` command: checks the Node.js version, then runs the TypeScript CLI directly.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `oxbow needs Node.js 24 LTS (22.22 or later works); this is Node.js ${process.versions.node}.\n` +
      'Run it through npm (npx oxbow ...), which uses the Node.js 24 that `npm ci` installed, or install Node.js 24.\n',
  );
  process.exit(78);
}
// Every partition's appends and fsyncs go through libuv's thread pool; 4 threads (the default) let a few slow fsyncs
// stall all other file work. It must be set before the pool's first use.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
