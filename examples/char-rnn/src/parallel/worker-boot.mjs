// The entry of a training worker thread: Node 20 does not hand tsx's module hooks to worker threads, so
// the worker registers them itself before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
