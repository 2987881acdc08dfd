// What `edgewarden demo` prints under "Where the data lives": the files, or, when it kept its
// store in memory, that nothing was written, why, and how to keep the files.
import { whereTheDataLives } from './demo.js';

test('in a folder: the log and the store, and the next command on the log', () => {
  expect(
    whereTheDataLives({
      storage: { kind: 'folder', dir: '/home/me/.local/share/edgewarden/demo' },
      logFile: '/home/me/.local/share/edgewarden/demo/routers.log',
      databaseFile: '/home/me/.local/share/edgewarden/demo/anomalies.db',
    }),
  ).toEqual({
    where: `  logs       /home/me/.local/share/edgewarden/demo/routers.log
  anomalies  /home/me/.local/share/edgewarden/demo/anomalies.db   (SQLite: sqlite3 /home/me/.local/share/edgewarden/demo/anomalies.db 'SELECT * FROM anomalies')`,
    next: 'edgewarden analyze --input /home/me/.local/share/edgewarden/demo/routers.log --agent auth --format jsonl',
  });
});

test('in memory: nothing written, why, and --data-dir to keep the files', () => {
  const { where, next } = whereTheDataLives({
    storage: {
      kind: 'memory',
      why: 'the default folder /home/nonroot/.local/share/edgewarden/demo cannot be written: the file system is read-only',
    },
  });
  expect(where)
    .toBe(`  in memory only: nothing was written to disk, and the store is gone when the demo ends
  (the default folder /home/nonroot/.local/share/edgewarden/demo cannot be written: the file system is read-only).
  The generated log, whose LINES the table names, was kept in memory too.
  --data-dir DIR writes routers.log and anomalies.db to DIR instead; with a read-only root
  file system, make DIR a writable mount (an emptyDir, docker run -v or --tmpfs).`);
  expect(next).toBe(
    'edgewarden demo --data-dir DIR, then edgewarden analyze --input DIR/routers.log --agent auth --format jsonl',
  );
});
