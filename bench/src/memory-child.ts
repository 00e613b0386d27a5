/** The process W6 starts for one (library, T) pair: measures, then prints `RESULT <json>`. */
import { measureMemory, type MemoryLibrary } from './memory.js';
import type { BenchSizes } from './sizes.js';

const { library, sizes, steps, trainSteps } = JSON.parse(process.argv[2] ?? '{}') as {
  library: MemoryLibrary;
  sizes: BenchSizes;
  steps: number;
  trainSteps: number;
};
const result = await measureMemory(library, sizes, steps, trainSteps, true);
console.log(`RESULT ${JSON.stringify(result)}`);
