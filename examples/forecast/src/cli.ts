/**
 * forecast: autoregressive forecasting with tapestry. Fits a linear AR(τ) model and a latent autoregressive
 * LSTM/GRU to monthly Mauna Loa CO2, forecasts the last 36 months from the history before them, and
 * compares both with the seasonal-naive forecast.
 *
 *   tsx src/cli.ts [options]      (tsx src/cli.ts --help lists them)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { integer as int, positive, runCli, UsageError } from '@tapestry/example-common';
import { DEFAULT_CONFIG, runExperiment, type ExperimentConfig } from './experiment.js';
import { forecastSvg } from './plot.js';

const d = DEFAULT_CONFIG;
const program = new Command('forecast')
  .description('Forecast monthly atmospheric CO2 with a linear AR(τ) model and a latent autoregressive LSTM/GRU, trained with tapestry.')
  .option('--horizon <n>', 'months forecast (the test window; validation uses as many before it)', int('--horizon', 1), d.horizon)
  .option('--order <n>', 'AR order τ (months of lags)', int('--order', 1), d.order)
  .addOption(new Option('--cell <type>', 'recurrent cell of the latent model').choices(['lstm', 'gru']).default(d.cell))
  .option('--hidden <n>', 'hidden size of the latent model', int('--hidden', 1), d.hidden)
  .option('--window <n>', 'teacher-forced training window (months)', int('--window', 2), d.windows.window)
  .option('--burn-in <n>', 'leading steps of each window that are not scored', int('--burn-in'), d.windows.burnIn)
  .option('--context <n>', 'months of history the latent model reads before forecasting', int('--context', 1), d.context)
  .option('--batch <n>', 'windows per batch', int('--batch', 1), d.windows.batchSize)
  .option('--epochs <n>', 'latent model: at most this many epochs', int('--epochs', 1), d.latent.epochs)
  .option('--lr <x>', 'latent model: Adam learning rate', positive('--lr'), d.latent.lr)
  .option('--patience <n>', 'latent model: stop after this many epochs without a better validation MAE', int('--patience', 1), d.latent.patience)
  .option('--ar-steps <n>', 'AR model: full-batch Adam steps (fitted to convergence, no early stopping)', int('--ar-steps', 1), d.ar.epochs)
  .option('--ar-lr <x>', 'AR model: Adam learning rate', positive('--ar-lr'), d.ar.lr)
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option('--out <dir>', 'where to write forecast.svg and results.json', 'out/forecast')
  .action(async (o) => {
    if (o.burnIn >= o.window)
      throw new UsageError(`--burn-in ${o.burnIn} leaves nothing to score in windows of --window ${o.window}; make --burn-in smaller than --window`);
    const config: ExperimentConfig = {
      horizon: o.horizon,
      order: o.order,
      cell: o.cell,
      hidden: o.hidden,
      context: o.context,
      windows: { window: o.window, burnIn: o.burnIn, batchSize: o.batch },
      latent: { ...d.latent, epochs: o.epochs, lr: o.lr, patience: o.patience, seed: o.seed },
      ar: { ...d.ar, epochs: o.arSteps, lr: o.arLr, seed: o.seed },
    };
    console.log(
      `forecast: monthly CO2 at Mauna Loa (vega-datasets co2-concentration.csv), standardised month-to-month changes + calendar month\n` +
        `  AR(${config.order}) by full-batch Adam lr ${config.ar.lr}; latent ${config.cell.toUpperCase()} ${config.hidden}, windows ${config.windows.window} (burn-in ${config.windows.burnIn}), ` +
        `batch ${config.windows.batchSize}, Adam lr ${config.latent.lr}, ≤ ${config.latent.epochs} epochs (patience ${config.latent.patience}), context ${config.context}, seed ${o.seed}`,
    );
    const bar = new cliProgress.SingleBar(
      {
        format: '{model} |{bar}| {percentage}% | loss {loss} | valid MAE {valid} ppm | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 10000,
      },
      cliProgress.Presets.shades_classic,
    );
    let total = 0;
    let steps = 0;
    let label = '';
    let valid = '-';
    const progress = (name: string) => ({
      onStep: (step: number, loss: number) => bar.update((steps = step), { model: label, loss: loss.toFixed(4), valid }),
      onEval: (r: { epoch: number; trainLoss: number; validMae: number }) => {
        // a line per evaluation, so the curve is in the log even where the bar cannot redraw (not a TTY)
        bar.stop();
        console.log(
          `  ${name} ${name === 'AR' ? 'step' : 'epoch'} ${r.epoch}: training loss ${r.trainLoss.toFixed(4)}, validation MAE ${r.validMae.toFixed(3)} ppm`,
        );
        valid = r.validMae.toFixed(3);
        bar.start(total, steps, { model: label, loss: '-', valid });
      },
    });
    const result = runExperiment(config, {
      onStart: (model, totalSteps) => {
        total = totalSteps;
        steps = 0;
        valid = '-';
        label = model === 'ar' ? `AR(${config.order})`.padEnd(8) : config.cell.toUpperCase().padEnd(8);
        bar.start(total, 0, { model: label, loss: '-', valid });
      },
      onEnd: () => {
        bar.update(total);
        bar.stop();
      },
      ar: progress('AR'),
      latent: progress(config.cell.toUpperCase()),
    });
    const { series, testStart, validStart } = result;
    const testMonths = series.months.slice(testStart);
    const plotFrom = Math.max(0, validStart - 8 * 12);
    mkdirSync(o.out, { recursive: true });
    const plotPath = join(o.out, 'forecast.svg');
    writeFileSync(
      plotPath,
      await forecastSvg(
        [
          { name: 'history', months: series.months.slice(plotFrom, testStart), values: series.values.subarray(plotFrom, testStart) },
          { name: 'truth', months: testMonths, values: result.truth },
          { name: 'seasonal naive', months: testMonths, values: result.seasonalNaive.values, dashed: true },
          { name: `AR(${config.order})`, months: testMonths, values: result.ar.values, dashed: true },
          { name: `latent ${config.cell.toUpperCase()}`, months: testMonths, values: result.latent.values, dashed: true },
        ],
        `CO2: ${config.horizon}-month forecasts from ${series.months[testStart - 1]} (seed ${o.seed})`,
      ),
    );
    const rows = [
      ['seasonal naive (same month, last observed year)', result.seasonalNaive.mae, '-'],
      [`AR(${config.order}), gradient-fitted`, result.ar.mae, `all ${result.ar.fit.bestEpoch} steps`],
      [`latent ${config.cell.toUpperCase()} ${config.hidden}`, result.latent.mae, `epoch ${result.latent.fit.bestEpoch}`],
    ] as const;
    writeFileSync(
      join(o.out, 'results.json'),
      JSON.stringify(
        {
          options: o,
          filledMonths: series.filled,
          testMonths: [testMonths[0], testMonths[testMonths.length - 1]],
          mae: { seasonalNaive: result.seasonalNaive.mae, lastYearObserved: result.lastYearObserved.mae, ar: result.ar.mae, latent: result.latent.mae },
          validMae: { ar: result.ar.fit.bestValidMae, latent: result.latent.fit.bestValidMae },
          history: { ar: result.ar.fit.history, latent: result.latent.fit.history },
        },
        null,
        2,
      ) + '\n',
    );
    console.log(
      `\ntest window ${testMonths[0]} … ${testMonths[testMonths.length - 1]} (${config.horizon} months), forecast from the history before it; ${series.filled.length} missing months interpolated (${series.filled.join(', ')})`,
    );
    console.log(`${'forecast'.padEnd(50)}${'test MAE (ppm)'.padStart(15)}   kept`);
    for (const [name, value, kept] of rows) console.log(`${name.padEnd(50)}${value.toFixed(3).padStart(15)}   ${kept}`);
    console.log(`(reference: last year's observed value, which peeks into the test window after 12 months: ${result.lastYearObserved.mae.toFixed(3)})`);
    const ratio = result.latent.mae / result.seasonalNaive.mae;
    console.log(`latent ${config.cell.toUpperCase()} vs seasonal naive: ${ratio < 1 ? 'beats it' : 'does NOT beat it'} (MAE ratio ${ratio.toFixed(3)})`);
    console.log(`plot: ${plotPath}   results: ${join(o.out, 'results.json')}`);
  });

await runCli(program);
