// The import graph, as ../shared/guides/operator-style.md lays it out, checked in `npm test`.
//
//   api/            types and validator generated from the CRDs, and the formats both programs
//                   share (logger, port, duration, quantity): imports nothing of ours
//   agent-runtime/  what runs in an agent pod: api/ only; never the operator
//   operator/src/   layers, each importing only those below it:
//                   api <- domain <- controllers <- main; runtime (generic) knows none of our kinds
//                   and the operator reaches into the agent runtime only through its contract;
//                   each controller (controllers/<kind>/) imports no other
//   cli/            the one executable: composes the others
//   scripts/, test/ development tools: may read anything; product code never imports them
//   examples/       worked examples the docs quote (an example agent): use the agent runtime as
//                   a plug-in would; product code never imports them
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make load order fragile and layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'api-imports-nothing-of-ours',
      severity: 'error',
      comment: 'Its tests may share the fixtures in test/.',
      from: { path: '^api/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(operator|agent-runtime|cli|scripts|test)/' },
    },
    {
      name: 'agent-runtime-never-imports-operator',
      severity: 'error',
      comment: 'The agent runtime runs standalone; it must not depend on the operator or the CLI.',
      from: { path: '^agent-runtime/' },
      to: { path: '^(operator|cli)/' },
    },
    {
      name: 'operator-uses-only-the-agent-contract',
      severity: 'error',
      comment:
        'The operator may know the env vars, mount paths and ports an agent pod starts with, nothing else.',
      from: { path: '^operator/' },
      to: { path: '^agent-runtime/', pathNot: '^agent-runtime/src/contract(/|\\.ts$)' },
    },
    {
      name: 'operator-never-imports-cli',
      severity: 'error',
      from: { path: '^operator/' },
      to: { path: '^cli/' },
    },
    {
      name: 'runtime-knows-no-kinds',
      severity: 'error',
      comment:
        'operator/src/runtime is generic: queue, informers, apply, conditions, leader election.',
      from: { path: '^operator/src/runtime/' },
      // api/src/objectMeta.ts is Kubernetes' own ObjectMeta, no kind of ours; the logger and the
      // port, duration and quantity parsers are formats both programs share: shared, not copied.
      to: {
        path: '^(api|agent-runtime)/|^operator/src/(domain|controllers|main)/',
        pathNot: '^api/src/(objectMeta|log|port|duration|quantity)\\.ts$',
      },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'Pure logic: no controllers, no main, no I/O clients.',
      from: { path: '^operator/src/domain/' },
      to: {
        path: '^operator/src/(controllers|main)/|^node_modules/(pg|ioredis|better-sqlite3|express)/',
      },
    },
    {
      name: 'controllers-are-independent',
      severity: 'error',
      comment:
        'A controller imports no other controller: what two share (agent pods, their HTTP client, the status write, the kinds) lives in domain/ or runtime/.',
      from: { path: '^operator/src/controllers/([^/]+)/' },
      to: { path: '^operator/src/controllers/', pathNot: '^operator/src/controllers/$1/' },
    },
    {
      name: 'controllers-never-import-main',
      severity: 'error',
      comment: 'Only main constructs real clients; controllers get them in their context.',
      from: { path: '^operator/src/controllers/' },
      to: { path: '^operator/src/main/' },
    },
    {
      name: 'product-never-imports-dev-code',
      severity: 'error',
      from: { path: '^(api|operator|agent-runtime|cli)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(scripts|test|examples)/' },
    },
    {
      name: 'no-dev-dependencies-in-product',
      severity: 'error',
      from: { path: '^(api|operator|agent-runtime|cli)/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'examples-are-plug-ins',
      severity: 'error',
      comment:
        'An example agent uses what an agent of the runtime may use (the agent runtime, api/), never the operator, the CLI or the dev tools.',
      from: { path: '^examples/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(operator|cli|scripts|test)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: '^(api|operator|agent-runtime|cli|scripts|test|bin|examples)/|^node_modules/',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
