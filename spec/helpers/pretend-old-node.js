// Preloaded with `node -r` by the CLI spec: this process reports Node.js 18.19.0, and at exit says on stdout whether
// any of the packages that need Node 20 (commander, joi, hapi-pino, @hapi/hapi) had been loaded by then.
'use strict';
Object.defineProperty(process.versions, 'node', { value: '18.19.0' });
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((path) =>
    /[\\/]node_modules[\\/](commander|joi|hapi-pino|@hapi[\\/]hapi)[\\/]/.test(path),
  );
  if (loaded.length > 0) process.stdout.write(`loaded: ${loaded.join(' ')}\n`);
});
