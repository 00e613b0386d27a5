/**
 * gradient-flow: how far back a gradient reaches in a tanh RNN, a ReLU RNN, an LSTM and a GRU.
 *
 *   tsx src/cli.ts [options]    measure, print the summary, write the figure (SVG) and the numbers (JSON)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { integer as int, positive, finite, runCli } from '@tapestry/example-common';
import { DEFAULT_CONFIG, runExperiment, workUnits, type ExperimentConfig } from './experiment.js';
import { gradientFlowSvg } from './plot.js';
import { summaryText } from './summary.js';

const d = DEFAULT_CONFIG;
const program = new Command('gradient-flow')
  .description(
    'Measure ‖∂L/∂h_t‖ against the distance T − t for a loss at the last step, for a tanh RNN, a ReLU RNN, an LSTM and a GRU, ' +
      'at initialisation and after a little training, plus an exploding tanh RNN with and without clipGradNorm.',
  )
  .option('--length <T>', 'steps of the measurement (distances 0 … T)', int('--length', 1), d.length)
  .option('--batch <n>', 'sequences in the measurement batch', int('--batch', 1), d.batch)
  .option('--hidden <n>', 'hidden size', int('--hidden', 1), d.hiddenSize)
  .option('--input <n>', 'input features', int('--input', 1), d.inputSize)
  .option('--forget-bias <x>', 'LSTM forget-gate bias b_if + b_hf', finite('--forget-bias'), d.forgetBias)
  .option('--scale <x>', "gain of the exploding RNN's orthogonal recurrent weight", positive('--scale'), d.explodingScale)
  .option('--max-norm <x>', 'clipGradNorm max norm in the exploding case', positive('--max-norm'), d.maxNorm)
  .option('--train-steps <n>', 'Adam steps of the brief training (0: skip it)', int('--train-steps', 0), d.train.steps)
  .option('--train-length <n>', 'sequence length of the training task', int('--train-length', 1), d.train.length)
  .option('--train-batch <n>', 'training batch size', int('--train-batch', 1), d.train.batch)
  .option('--lr <x>', 'Adam learning rate', positive('--lr'), d.train.lr)
  .option('--clip <x>', 'clip training gradients to this global norm', positive('--clip'), d.train.clip)
  .option('--seed <n>', 'random seed', int('--seed', 0), d.seed)
  .option('--out <dir>', 'output directory', 'out/gradient-flow')
  .action(async (o) => {
    const config: ExperimentConfig = {
      length: o.length,
      batch: o.batch,
      inputSize: o.input,
      hiddenSize: o.hidden,
      forgetBias: o.forgetBias,
      explodingScale: o.scale,
      maxNorm: o.maxNorm,
      clipLengths: d.clipLengths.filter((T) => T <= o.length),
      train: { steps: o.trainSteps, length: o.trainLength, batch: o.trainBatch, lr: o.lr, clip: o.clip },
      seed: o.seed,
    };
    const bar = new cliProgress.SingleBar(
      { format: 'gradient-flow |{bar}| {percentage}% | {task} | ETA {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000 },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(workUnits(config), 0, { task: 'starting' });
    const result = runExperiment(config, (task, done) => bar.update(done, { task }));
    bar.stop();
    mkdirSync(o.out, { recursive: true });
    const svgPath = join(o.out, 'gradient-flow.svg');
    const jsonPath = join(o.out, 'results.json');
    writeFileSync(svgPath, await gradientFlowSvg(result));
    writeFileSync(jsonPath, JSON.stringify(result, null, 1));
    console.log(summaryText(result));
    console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s   figure: ${svgPath}   numbers: ${jsonPath}`);
  });

await runCli(program);
