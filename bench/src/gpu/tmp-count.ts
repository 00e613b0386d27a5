import { optimize, trace, findFusionGroups } from '@tapestry/core';
import { charTraining, charBatch, patternText, W7_SIZES } from './char-step.js';
const w7 = W7_SIZES;
const tr = charTraining(w7);
const b = charBatch(w7, patternText(w7.vocab, 20000), 0);
const t0 = performance.now();
const g = optimize(trace(tr.step, tr.params, tr.optState, b.ids, b.targets));
console.log('trace+opt ms', performance.now() - t0);
const groups = findFusionGroups(g);
const inGroup = new Set<number>(); for (const gr of groups) for (const m of gr.members) inGroup.add(m);
const counts: Record<string, number> = {};
for (const n of g.nodes) { if (n.op === 'input' || n.op === 'const' || inGroup.has(n.id)) continue; counts[n.op] = (counts[n.op] ?? 0) + 1; }
counts['<fused group>'] = groups.length;
console.log(Object.entries(counts).sort((a, b) => b[1] - a[1]));
console.log('nodes', g.nodes.length, 'units', Object.values(counts).reduce((a, b) => a + b, 0));
