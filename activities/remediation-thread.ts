// Worker-thread entry for remediation's per-file work: runs one named step over a
// slice of items and posts the results back, keeping the host worker's event loop
// free for heartbeats and database writes while both cores make syscalls.
import { applyOne, rollbackOne, snapshotOne, verifyOne } from './remediation-fs';
import { serveOperations } from './thread-pool';

function eachItem<Item, Result>(step: (item: Item) => Result): (items: Item[]) => Result[] {
  return (items) => items.map((item) => step(item));
}

serveOperations({ snapshot: eachItem(snapshotOne), apply: eachItem(applyOne), verify: eachItem(verifyOne), rollback: eachItem(rollbackOne) });
