/** The printed summary: the curves at a few distances, how training went, and the clipping table. */
import type { ExperimentResult, ModelCurves } from './experiment.js';

/** The distances the table shows (those ≤ T are printed). */
const TABLE_DISTANCES = [1, 10, 50, 100, 200];

const sci = (v: number | undefined): string => (v === undefined ? '-' : v === 0 ? '0' : v.toExponential(2));
const pad = (s: string, n: number): string => s.padEnd(n);
const padLeft = (s: string, n: number): string => s.padStart(n);

/** The summary as text (one table per phase, then the exploding case). */
export function summaryText(result: ExperimentResult): string {
  const { config } = result;
  const distances = TABLE_DISTANCES.filter((x) => x <= config.length);
  const width = Math.max(...[...Object.values(result.init), result.exploding].map((c) => c.label.length)) + 2;
  const header = pad('model', width) + distances.map((x) => padLeft(`d=${x}`, 11)).join('') + padLeft('d=0', 11);
  const row = (c: ModelCurves): string => pad(c.label, width) + distances.map((x) => padLeft(sci(c.h[x]), 11)).join('') + padLeft(sci(c.h[0]), 11);
  const lines = [
    `‖∂L/∂h_t‖ at distance d = T − t (T = ${config.length}, hidden ${config.hiddenSize}, batch ${config.batch}, float64, seed ${config.seed})`,
    '',
    'at initialisation',
    header,
    ...[...Object.values(result.init), result.exploding].map(row),
  ];
  if (config.train.steps > 0) {
    lines.push(
      '',
      `after ${config.train.steps} Adam steps (lr ${config.train.lr}, clip ${config.train.clip}) on "remember x₁[0] > 0" over T = ${config.train.length}`,
      header,
    );
    lines.push(...Object.values(result.trained).map(row));
    lines.push('', pad('training', width) + padLeft('loss first 20', 15) + padLeft('loss last 20', 15) + padLeft('acc before', 12) + padLeft('acc after', 12));
    for (const c of Object.values(result.trained)) {
      const t = c.training;
      lines.push(
        pad(c.label, width) +
          padLeft(t.lossStart.toFixed(3), 15) +
          padLeft(t.lossEnd.toFixed(3), 15) +
          padLeft(t.accuracyBefore.toFixed(3), 12) +
          padLeft(t.accuracyAfter.toFixed(3), 12),
      );
    }
  }
  lines.push('', `${result.exploding.label}: ‖∂L_T/∂θ‖ before and after clipGradNorm(·, ${config.maxNorm}); default tanh RNN for contrast`);
  lines.push(padLeft('T', 5) + padLeft('before', 12) + padLeft('after', 12) + padLeft('default tanh', 14));
  result.exploding.clipping.forEach((r, i) => {
    lines.push(padLeft(String(r.T), 5) + padLeft(sci(r.before), 12) + padLeft(sci(r.after), 12) + padLeft(sci(result.exploding.reference[i]?.before), 14));
  });
  return lines.join('\n');
}
