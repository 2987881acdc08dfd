#!/usr/bin/env node
// Entry point of the `kubectl edgewarden` plugin: kubectl runs `kubectl-edgewarden` from the
// PATH (npm i -g puts it there; or krew, plugins/krew/edgewarden.yaml). Compiled to dist/.
let plugin;
try {
  plugin = await import('../dist/cli/src/kubectl/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/'))
    throw error;
  console.error('error: kubectl-edgewarden is not built yet; run `npm run build`');
  process.exit(1);
}
// A reader that goes away (`kubectl edgewarden anomalies | head`) ends the output quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await plugin.main(process.argv.slice(2));
