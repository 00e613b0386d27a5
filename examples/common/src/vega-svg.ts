/** Renders a Vega-Lite specification to SVG in Node, without a browser or a canvas. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The SVG text of a Vega-Lite chart. */
export async function vegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

export type { TopLevelSpec };
