/**
 * char-rnn: a character-level language model on Moby-Dick (or any text), trained with tapestry.
 *
 *   tsx src/cli.ts train [options]     train (default budget: 5 minutes), then report and sample
 *   tsx src/cli.ts sample [options]    write text from a checkpoint
 *   tsx src/cli.ts eval [options]      test bits per character of a checkpoint
 *
 * Each takes --device cpu (default) or --device webgpu; a checkpoint written on one resumes, samples and
 * evaluates on the other.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldIn, randomKey } from '@tapestry/core';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { integer as int, positive, fraction, resumeConfig, runCli, type ResumeOption } from '@tapestry/example-common';
import { enableRelaxedSimd } from '@tapestry/example-common/relaxed-simd';
import { prepareCorpus, readText } from './corpus.js';
import { bitsPerCharacter } from './evaluate.js';
import { sampleText } from './generate-text.js';
import { readCheckpoint, requireCheckpoint, saveCheckpoint } from './checkpoint.js';
import { DEVICES, openDevice, placeState, stateOnHost, threadsFor } from './device.js';
import { lossPlotSvg } from './plot.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop, type TrainConfig } from './training.js';

// On resume, what defines the saved model and the position in the data is refused if it differs; the rest
// may change, and each change is printed.
const RESUME_OPTIONS: readonly ResumeOption<TrainConfig>[] = [
  { flag: '--cell', key: 'cell', fixed: "the model's cell type" },
  { flag: '--hidden', key: 'hiddenSize', fixed: "the model's shape" },
  { flag: '--layers', key: 'numLayers', fixed: "the model's shape" },
  { flag: '--embedding', key: 'embeddingDim', fixed: "the model's shape" },
  { flag: '--batch', key: 'batchSize', fixed: "the carried state's shape and the position in the data" },
  { flag: '--seq-len', key: 'seqLen', fixed: 'the position in the data' },
  { flag: '--seed', key: 'seed', fixed: "the run's initialisation and random streams" },
  { flag: '--dropout', key: 'dropout' },
  { flag: '--lr', key: 'lr' },
  { flag: '--warmup', key: 'warmupSteps' },
  { flag: '--decay-steps', key: 'decaySteps' },
  { flag: '--min-lr', key: 'minLr' },
  { flag: '--clip', key: 'clip' },
];

/** On resume the vocabulary is the checkpoint's: say so if the text has characters it does not know. */
function unknownLine(ids: Int32Array, unkId: number | undefined): string[] {
  const count = unkId === undefined ? 0 : ids.reduce((n, id) => n + (id === unkId ? 1 : 0), 0);
  return count === 0
    ? []
    : [`${count} training characters are not in the checkpoint's vocabulary and are read as unknown (is --data the text it was trained on?)`];
}

/** `--device`, the same on every command. */
function deviceOption(): Option {
  return new Option('--device <name>', 'where to run: the CPU, or the first WebGPU adapter').choices(DEVICES).default('cpu');
}

// the GEMM's fused multiply-add build, as Chrome and Node 21+ run it (Node 20 keeps it behind a flag)
enableRelaxedSimd();

const program = new Command('char-rnn').description('A character-level recurrent language model, trained with tapestry.');

program
  .command('train')
  .description('train a model (resumes from --checkpoint if it exists), then print validation and test bits/char and a sample')
  .addOption(new Option('--cell <type>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default(DEFAULT_CONFIG.cell))
  .option('--hidden <n>', 'hidden size', int('--hidden'), DEFAULT_CONFIG.hiddenSize)
  .option('--layers <n>', 'stacked recurrent layers', int('--layers'), DEFAULT_CONFIG.numLayers)
  .option('--embedding <n>', 'character embedding size', int('--embedding'), DEFAULT_CONFIG.embeddingDim)
  .option(
    '--dropout <p>',
    'dropout on the embeddings, between recurrent layers and on the recurrent output (training only)',
    fraction('--dropout'),
    DEFAULT_CONFIG.dropout,
  )
  .option('--seq-len <n>', 'truncated-BPTT window length', int('--seq-len'), DEFAULT_CONFIG.seqLen)
  .option('--batch <n>', 'parallel streams per step', int('--batch'), DEFAULT_CONFIG.batchSize)
  .option('--lr <x>', 'peak Adam learning rate', positive('--lr'), DEFAULT_CONFIG.lr)
  .option('--warmup <steps>', 'linear learning-rate warm-up steps', int('--warmup'), DEFAULT_CONFIG.warmupSteps)
  .option('--decay-steps <n>', 'cosine learning-rate decay over this many steps after the warm-up (0: constant)', int('--decay-steps'), 0)
  .option('--min-lr <x>', 'learning rate at the end of the decay (default lr/10)', positive('--min-lr'))
  .option('--clip <x>', 'clip gradients to this global L2 norm', positive('--clip'), DEFAULT_CONFIG.clip)
  .option('--seed <n>', 'random seed', int('--seed'), DEFAULT_CONFIG.seed)
  .option('--minutes <x>', 'training-time budget in minutes', positive('--minutes'), 5)
  .option('--epochs <n>', 'stop after this many epochs', int('--epochs'))
  .option('--steps <n>', 'stop after this many optimiser steps', int('--steps'))
  .option('--eval-minutes <x>', 'validate every this many minutes of training', positive('--eval-minutes'), 1)
  .option('--eval-chars <n>', 'validation characters used during training (all at the end)', int('--eval-chars'), 20000)
  .option('--data <file>', 'train on this UTF-8 text file instead of Moby-Dick')
  .option('--max-chars <n>', 'use only the first n characters of the text', int('--max-chars'))
  .option('--checkpoint <dir>', 'checkpoint directory (resumed from if present)', 'out/char-rnn')
  .option('--fresh', 'ignore an existing checkpoint and start over')
  .option('--no-jit', 'run the training step eagerly instead of compiling it with jit')
  .addOption(deviceOption())
  .option('--threads <n>', 'train on this many CPU threads (data parallel; must divide --batch; default 2; --device cpu only)', int('--threads'))
  .option('--sample-length <n>', 'characters in the final sample', int('--sample-length'), 400)
  .option('--temperature <x>', 'sampling temperature', positive('--temperature'), 0.8)
  .action(async (o, command: Command) => {
    const { text, source } = readText(o.data, o.maxChars);
    const stored = o.fresh ? undefined : readCheckpoint(o.checkpoint);
    const resumed = stored && resumeConfig(command, { decaySteps: 0, ...stored.config }, RESUME_OPTIONS, o.checkpoint);
    const config: TrainConfig = resumed?.config ?? {
      cell: o.cell,
      hiddenSize: o.hidden,
      numLayers: o.layers,
      embeddingDim: o.embedding,
      dropout: o.dropout,
      seqLen: o.seqLen,
      batchSize: o.batch,
      lr: o.lr,
      warmupSteps: o.warmup,
      decaySteps: o.decaySteps,
      minLr: o.minLr ?? o.lr / 10,
      clip: o.clip,
      seed: o.seed,
    };
    const threads = threadsFor(o.device, o.threads);
    const device = await openDevice(o.device);
    const corpus = prepareCorpus(text, source, stored?.vocab);
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    let state = stored ? placeState(stored.load(model, optimizer), device) : initialTrainingState(config, model, optimizer, device);
    const budgetMs = o.minutes * 60000;
    const resumeLines = stored
      ? [
          `resuming ${stored.dir} at step ${state.step} (epoch ${state.epoch}, ${(state.elapsedMs / 60000).toFixed(1)} min trained)` +
            (stored.legacy ? '; it is in the layout of an earlier version, whose parts cannot be checked to belong together: the next save rewrites it' : ''),
          ...resumed!.changes,
          ...unknownLine(corpus.train, corpus.vocab.unkId),
          ...(o.steps === undefined && o.epochs === undefined
            ? [
                `--minutes ${o.minutes} counts the whole run: ${state.elapsedMs >= budgetMs ? 'the budget is spent, nothing to train (raise --minutes to continue)' : `${((budgetMs - state.elapsedMs) / 60000).toFixed(1)} min to go`}`,
              ]
            : []),
        ]
      : [];
    console.log(
      `char-rnn: ${corpus.source}\n  ${corpus.train.length} training / ${corpus.valid.length} validation / ${corpus.test.length} test characters, vocabulary ${corpus.vocab.size}\n` +
        `  ${config.numLayers}×${config.hiddenSize} ${config.cell.toUpperCase()}, embedding ${config.embeddingDim}, batch ${config.batchSize}×${config.seqLen}, ` +
        `Adam ${config.lr} (warm-up ${config.warmupSteps}${config.decaySteps ? `, cosine decay over ${config.decaySteps} steps to ${config.minLr}` : ''}), clip ${config.clip}, seed ${config.seed}, ` +
        (o.device === 'cpu' ? `cpu × ${threads} thread${threads === 1 ? '' : 's'}` : `${o.device}${o.jit ? '' : ' (eager: one submission per op)'}`) +
        resumeLines.map((line) => `\n  ${line}`).join(''),
    );
    const bar = new cliProgress.SingleBar(
      {
        format: 'train |{bar}| {percentage}% | step {step} | loss {loss} bits/char | {speed} char/s | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 15000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const total = o.steps ?? (o.epochs === undefined ? Math.round(budgetMs / 1000) : o.epochs);
    bar.start(total, 0, { step: state.step, loss: '-', speed: '-' });
    let windowStart = performance.now();
    let windowChars = state.charsSeen;
    let lastLine = performance.now();
    const progressOf = (s: typeof state): number =>
      o.steps !== undefined ? s.step : o.epochs !== undefined ? s.epoch : Math.min(total, Math.round(s.elapsedMs / 1000));
    state = await trainLoop(config, corpus, model, state, {
      budgetMs: o.steps === undefined && o.epochs === undefined ? budgetMs : undefined,
      maxSteps: o.steps,
      maxEpochs: o.epochs,
      evalEveryMs: o.evalMinutes * 60000,
      evalChars: o.evalChars,
      jit: o.jit,
      threads,
      device,
      onStep: (s, loss) => {
        const now = performance.now();
        const speed = ((s.charsSeen - windowChars) / ((now - windowStart) / 1000)).toFixed(0);
        if (now - windowStart > 5000) {
          windowStart = now;
          windowChars = s.charsSeen;
        }
        bar.update(progressOf(s), { step: s.step, loss: (loss / Math.LN2).toFixed(3), speed });
        // a bar redraws on a timer, which a synchronous training loop never lets fire when stdout is not a
        // terminal (CI, a log file): print a plain line instead every 15 s
        if (!process.stdout.isTTY && now - lastLine > 15000) {
          lastLine = now;
          console.log(`  step ${s.step}  loss ${(loss / Math.LN2).toFixed(3)} bits/char  ${speed} char/s  ${(s.elapsedMs / 60000).toFixed(1)} min`);
        }
      },
      onEval: async (s, bpc) => {
        bar.stop();
        const sample = await sampleText(model, s.params, corpus.vocab, {
          prompt: 'The ',
          length: 120,
          temperature: o.temperature,
          key: foldIn(randomKey(config.seed), 1000 + s.step),
        });
        console.log(`  validation ${bpc.toFixed(3)} bits/char after ${s.charsSeen} characters | ${JSON.stringify(sample)}`);
        bar.start(total, progressOf(s), { step: s.step, loss: '-', speed: '-' });
      },
    });
    bar.update(progressOf(state));
    bar.stop();
    // checkpoints hold host copies: the same safetensors whichever device trained
    saveCheckpoint(o.checkpoint, config, corpus.vocab, model, await stateOnHost(state));
    const evalOptions = { batchSize: config.batchSize, seqLen: config.seqLen };
    const validBpc = await bitsPerCharacter(model, state.params, corpus.valid, evalOptions);
    const testBpc = await bitsPerCharacter(model, state.params, corpus.test, evalOptions);
    state = { ...state, history: { ...state.history, valid: [...state.history.valid, { chars: state.charsSeen, bpc: validBpc }] } };
    saveCheckpoint(o.checkpoint, config, corpus.vocab, model, await stateOnHost(state));
    mkdirSync(o.checkpoint, { recursive: true });
    const plotPath = join(o.checkpoint, 'loss.svg');
    writeFileSync(plotPath, await lossPlotSvg(state.history.train, state.history.valid, `char-rnn ${config.numLayers}×${config.hiddenSize} ${config.cell}`));
    const sample = await sampleText(model, state.params, corpus.vocab, {
      prompt: 'Call me ',
      length: o.sampleLength,
      temperature: o.temperature,
      key: randomKey(config.seed + 1),
    });
    console.log(
      `\ntrained ${state.step} steps, ${state.charsSeen} characters, ${(state.elapsedMs / 60000).toFixed(1)} min (${(state.charsSeen / (state.elapsedMs / 1000)).toFixed(0)} char/s)`,
    );
    console.log(`checkpoint: ${o.checkpoint}   loss plot: ${plotPath}`);
    console.log(`test bits/char: ${testBpc.toFixed(3)}`);
    console.log(`validation bits/char: ${validBpc.toFixed(3)}`);
    console.log(`sample (temperature ${o.temperature}):\n${sample}`);
  });

program
  .command('sample')
  .description('write text from a checkpoint')
  .option('--checkpoint <dir>', 'checkpoint directory', 'out/char-rnn')
  .option('--prompt <text>', 'text to start from', 'Call me ')
  .option('--length <n>', 'characters to generate', int('--length'), 500)
  .option('--temperature <x>', 'sampling temperature', positive('--temperature'), 0.8)
  .option('--top-k <n>', 'sample among the k most likely characters only (k ≥ 1)', int('--top-k', 1))
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .addOption(deviceOption())
  .action(async (o) => {
    const { config, vocab, load } = requireCheckpoint(o.checkpoint);
    const model = makeModel(config, vocab.size);
    const state = placeState(load(model, makeOptimizer(config)), await openDevice(o.device));
    console.log(
      await sampleText(model, state.params, vocab, { prompt: o.prompt, length: o.length, temperature: o.temperature, topK: o.topK, key: randomKey(o.seed) }),
    );
  });

program
  .command('eval')
  .description('test (and validation) bits per character of a checkpoint')
  .option('--checkpoint <dir>', 'checkpoint directory', 'out/char-rnn')
  .option('--data <file>', 'the text the checkpoint was trained on (default Moby-Dick)')
  .option('--max-chars <n>', 'use only the first n characters of the text', int('--max-chars'))
  .addOption(deviceOption())
  .action(async (o) => {
    const { config, vocab, load } = requireCheckpoint(o.checkpoint);
    const { text, source } = readText(o.data, o.maxChars);
    const corpus = prepareCorpus(text, source, vocab);
    const model = makeModel(config, vocab.size);
    const state = placeState(load(model, makeOptimizer(config)), await openDevice(o.device));
    const evalOptions = { batchSize: config.batchSize, seqLen: config.seqLen };
    console.log(`validation bits/char: ${(await bitsPerCharacter(model, state.params, corpus.valid, evalOptions)).toFixed(3)}`);
    console.log(`test bits/char: ${(await bitsPerCharacter(model, state.params, corpus.test, evalOptions)).toFixed(3)}`);
  });

await runCli(program);
