/** History, truth and forecasts as an SVG, drawn with Vega-Lite (rendered headless by Vega). */
import { vegaLiteSvg, type TopLevelSpec } from '@tapestry/example-common';

/** One named line: values for consecutive months starting at `months[0]`. */
export interface Line {
  readonly name: string;
  readonly months: readonly string[];
  readonly values: ArrayLike<number>;
  /** Draw dashed (forecasts) rather than solid (observations). */
  readonly dashed?: boolean;
}

/** Renders the lines against time; the legend keeps the given order. */
export async function forecastSvg(lines: readonly Line[], title: string): Promise<string> {
  const values = lines.flatMap((line) =>
    Array.from(line.months, (month, i) => ({ series: line.name, month: `${month}-01`, ppm: line.values[i]!, dashed: line.dashed === true })),
  );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 760,
    height: 380,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6 },
    encoding: {
      x: { field: 'month', type: 'temporal', title: null },
      y: { field: 'ppm', type: 'quantitative', title: 'CO2 (ppm)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: lines.map((l) => l.name) },
      strokeDash: {
        field: 'dashed',
        type: 'nominal',
        legend: null,
        scale: {
          domain: [false, true],
          range: [
            [1, 0],
            [5, 3],
          ],
        },
      },
    },
  };
  return vegaLiteSvg(spec);
}
