/** The learning curves as an SVG, drawn with Vega-Lite (rendered headless by Vega). */
import { vegaLiteSvg, type TopLevelSpec } from '@tapestry/example-common';
import type { EpochRecord } from './training.js';

/** Renders training loss (left) and validation accuracy (right) per epoch, one line per model. */
export async function curvesSvg(runs: readonly { readonly model: string; readonly history: readonly EpochRecord[] }[], title: string): Promise<string> {
  const values = runs.flatMap(({ model, history }) => history.map((r) => ({ model, ...r })));
  const panel = (field: keyof EpochRecord, axisTitle: string) => ({
    width: 360,
    height: 280,
    mark: { type: 'line' as const, point: { size: 25 } },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field, type: 'quantitative' as const, title: axisTitle, scale: { zero: false } },
      color: { field: 'model', type: 'nominal' as const, title: null },
    },
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    hconcat: [panel('trainLoss', 'training loss (binary cross-entropy)'), panel('validAccuracy', 'validation accuracy')],
  };
  return vegaLiteSvg(spec);
}
