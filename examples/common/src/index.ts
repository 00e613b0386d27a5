export { integer, positive, nonNegative, finite, fraction } from './cli-options.js';
export { vegaLiteSvg, type TopLevelSpec } from './vega-svg.js';
