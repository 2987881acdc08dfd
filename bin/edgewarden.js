#!/usr/bin/env node
// Entry point of the `edgewarden` executable; the code is compiled to dist/ by `npm run build`.
let cli;
try {
  cli = await import('../dist/cli/src/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/'))
    throw error;
  console.error(
    'edgewarden: not built yet; run `npm run build` (or `npm ci` first on a fresh checkout)',
  );
  process.exit(1);
}
// A reader that goes away (`edgewarden parse ... | head`) ends the output, not with a stack.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await cli.main(process.argv.slice(2));
