/** The training curve as an SVG, drawn with Vega-Lite (rendered headless by Vega). */
import { vegaLiteSvg, type TopLevelSpec } from '@tapestry/example-common';

/** One point of a curve. */
export interface CurvePoint {
  readonly chars: number;
  readonly bpc: number;
}

/** Renders training and validation bits per character against characters seen. */
export async function lossPlotSvg(train: readonly CurvePoint[], valid: readonly CurvePoint[], title: string): Promise<string> {
  const values = [...train.map((p) => ({ ...p, split: 'training' })), ...valid.map((p) => ({ ...p, split: 'validation' }))];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    data: { values },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'chars', type: 'quantitative', title: 'characters seen' },
      y: { field: 'bpc', type: 'quantitative', title: 'bits per character', scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: null },
    },
  };
  return vegaLiteSvg(spec);
}
