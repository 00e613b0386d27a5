/**
 * Monthly mean atmospheric CO2 at Mauna Loa (NOAA/Scripps, via vega-datasets; CC BY 4.0), March 1958 –
 * April 2020, read from the exact-pinned npm package `vega-datasets`, never downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The path of `co2-concentration.csv` inside `vega-datasets`. */
function co2Path(): string {
  const require = createRequire(import.meta.url);
  // the package exports only its entry point (build/index.js), so go from there to the package's root
  const entry = require.resolve('vega-datasets');
  return join(dirname(dirname(entry)), 'data', 'co2-concentration.csv');
}

/** A monthly series without gaps. */
export interface MonthlySeries {
  /** `YYYY-MM` of each value. */
  readonly months: readonly string[];
  /** CO2 in ppm. */
  readonly values: Float64Array;
  /** Months absent from the file, filled by linear interpolation between their neighbours. */
  readonly filled: readonly string[];
}

const monthIndex = (date: string): number => {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return y * 12 + (m - 1);
};
const monthName = (index: number): string => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;

/**
 * Parses the CSV (`Date,CO2,adjusted CO2`) and returns the unadjusted CO2 as a gap-free monthly series:
 * the file skips a few months (e.g. 1958-06), which are filled by linear interpolation so that "12 steps
 * back" always means "the same month a year earlier".
 */
export function readCo2(path = co2Path()): MonthlySeries {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  if (lines[0]!.split(',')[1] !== 'CO2') throw new Error(`forecast: ${path} does not look like co2-concentration.csv (header ${lines[0]})`);
  const rows = lines.slice(1).map((line) => {
    const [date, co2] = line.split(',');
    const value = Number(co2);
    if (!date || !Number.isFinite(value)) throw new Error(`forecast: cannot parse ${JSON.stringify(line)} in ${path}`);
    return { index: monthIndex(date), value };
  });
  const first = rows[0]!.index;
  const count = rows[rows.length - 1]!.index - first + 1;
  const values = new Float64Array(count).fill(Number.NaN);
  for (const r of rows) values[r.index - first] = r.value;
  const filled: string[] = [];
  for (let i = 0; i < count; i++) {
    if (!Number.isNaN(values[i]!)) continue;
    let j = i;
    while (Number.isNaN(values[j]!)) j++;
    for (let k = i; k < j; k++) {
      values[k] = values[i - 1]! + ((values[j]! - values[i - 1]!) * (k - i + 1)) / (j - i + 1);
      filled.push(monthName(first + k));
    }
    i = j;
  }
  return { months: Array.from({ length: count }, (_, i) => monthName(first + i)), values, filled };
}
