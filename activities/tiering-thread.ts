// Worker-thread entry for tiering's byte work: runs one named step over a slice of
// items and posts the results back, so the event loop stays free for heartbeats.
import { serveOperations } from './thread-pool';
import { TIERING_OPS } from './tiering-ops';

serveOperations(TIERING_OPS);
