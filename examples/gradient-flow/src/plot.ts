/** The figure: three log-scale panels drawn with Vega-Lite and rendered headless by Vega to SVG. */
import { vegaLiteSvg, type TopLevelSpec } from '@tapestry/example-common';
import type { ExperimentResult, ModelCurves } from './experiment.js';

interface Point {
  readonly model: string;
  readonly distance: number;
  readonly norm: number;
}

// A log axis cannot show 0 (an underflowed gradient) or a non-finite value: those points are left out.
const plottable = (v: number): boolean => Number.isFinite(v) && v > 0;

function points(curves: readonly ModelCurves[]): Point[] {
  return curves.flatMap((c) => c.h.map((norm, distance) => ({ model: c.label, distance, norm })).filter((p) => plottable(p.norm)));
}

/**
 * Renders (a) ‖∂L/∂h_t‖ against T − t at initialisation, with the exploding RNN, (b) the same after the
 * brief training, and (c) the exploding RNN's ‖∂L_T/∂θ‖ against T before and after clipGradNorm.
 */
export async function gradientFlowSvg(result: ExperimentResult): Promise<string> {
  const { config } = result;
  const atInit = [...Object.values(result.init), result.exploding];
  // each panel's colour domain lists its own curves in the same order, so a model keeps its colour
  const color = (curves: readonly ModelCurves[]) =>
    ({
      field: 'model',
      type: 'nominal',
      title: null,
      scale: { domain: curves.map((c) => c.label) },
      legend: { orient: 'bottom', columns: 2, labelLimit: 320 },
    }) as const;
  const curvePanel = (title: string, curves: readonly ModelCurves[]) =>
    ({
      title,
      width: 360,
      height: 300,
      data: { values: points(curves) },
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'distance', type: 'quantitative', title: 'distance T − t (steps)' },
        y: { field: 'norm', type: 'quantitative', title: '‖∂L/∂h_t‖', scale: { type: 'log' }, axis: { format: '.0e' } },
        color: color(curves),
      },
    }) as const;
  const clipValues = [
    ...result.exploding.clipping.map((r) => ({ series: 'W_hh = ' + config.explodingScale + '·orthogonal, raw', T: r.T, norm: r.before })),
    ...result.exploding.clipping.map((r) => ({ series: `same, after clipGradNorm(·, ${config.maxNorm})`, T: r.T, norm: r.after })),
    ...result.exploding.reference.map((r) => ({ series: 'default tanh RNN, raw', T: r.T, norm: r.before })),
  ].filter((p) => plottable(p.norm));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Gradient flow through time',
      subtitle: `hidden ${config.hiddenSize}, input ${config.inputSize}, batch ${config.batch}, float64, loss = random projection of h_T, seed ${config.seed}`,
    },
    hconcat: [
      curvePanel('(a) at initialisation', atInit),
      curvePanel(`(b) after ${config.train.steps} Adam steps on "remember x₁" (T = ${config.train.length})`, Object.values(result.trained)),
      {
        title: '(c) exploding: parameter gradient vs T',
        width: 300,
        height: 300,
        data: { values: clipValues },
        mark: { type: 'line', point: { size: 25 } },
        encoding: {
          x: { field: 'T', type: 'quantitative', title: 'sequence length T (loss at step T)' },
          y: { field: 'norm', type: 'quantitative', title: '‖∂L_T/∂θ‖ (global L2)', scale: { type: 'log' }, axis: { format: '.0e' } },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 320 } },
        },
      },
    ],
    resolve: { scale: { color: 'independent', y: 'independent' } },
  };
  return vegaLiteSvg(spec);
}
