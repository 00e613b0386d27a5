/** The learning curves as an SVG, drawn with Vega-Lite (rendered headless by Vega). */
import { vegaLiteSvg, type TopLevelSpec } from '@tapestry/example-common';
import type { HistoryPoint } from './training.js';

/** Training loss (nats per phoneme) and validation PER (greedy) against training words seen, side by side. */
export async function curvesSvg(loss: readonly HistoryPoint[], validPer: readonly HistoryPoint[], title: string): Promise<string> {
  const panel = (values: readonly HistoryPoint[], name: string, color: string) => ({
    width: 360,
    height: 280,
    data: { values: values.map((p) => ({ ...p })) },
    mark: { type: 'line', point: { size: 20 }, color },
    encoding: {
      x: { field: 'words', type: 'quantitative', title: 'training words seen' },
      y: { field: 'value', type: 'quantitative', title: name, scale: { zero: false } },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: [panel(loss, 'training loss (nats / phoneme)', '#4c78a8'), panel(validPer, 'validation phoneme error rate (greedy)', '#f58518')],
  } as TopLevelSpec;
  return vegaLiteSvg(spec);
}
