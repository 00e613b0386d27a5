/**
 * seq2seq: spelling to pronunciation (grapheme-to-phoneme) on CMUdict, trained with tapestry.
 *
 *   tsx src/cli.ts train [options]        train (default budget: 10 minutes), then score held-out words
 *   tsx src/cli.ts eval [options]         score a saved model on all held-out test words, greedy and beam search
 *   tsx src/cli.ts pronounce <words...>   pronounce words with a saved model (greedy and beam search)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { integer as int, positive, runCli } from '@tapestry/example-common';
import { buildVocabularies, readCmudict, splitWords, type Entry } from './cmudict.js';
import { loadModel, saveModel } from './checkpoint.js';
import { beamDecode, greedyDecode, score } from './decode.js';
import { curvesSvg } from './plot.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop, type TrainConfig } from './training.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const program = new Command('seq2seq').description('Spelling to pronunciation with an attentional encoder–decoder, trained with tapestry.');

program
  .command('train')
  .description('train on CMUdict training words, then report phoneme error rate and word accuracy on held-out test words')
  .addOption(new Option('--cell <type>', 'recurrent cell of encoder and decoder').choices(['gru', 'lstm']).default(DEFAULT_CONFIG.cell))
  .option('--hidden <n>', 'hidden size (per encoder direction, and of the decoder)', int('--hidden'), DEFAULT_CONFIG.hiddenSize)
  .option('--embedding <n>', 'letter and phoneme embedding size', int('--embedding'), DEFAULT_CONFIG.embeddingDim)
  .option('--no-attention', 'decode from the encoder final states only (no attention)')
  .option('--batch <n>', 'words per step', int('--batch'), DEFAULT_CONFIG.batchSize)
  .option('--lr <x>', 'peak Adam learning rate', positive('--lr'), DEFAULT_CONFIG.lr)
  .option('--warmup <steps>', 'linear learning-rate warm-up steps', int('--warmup'), DEFAULT_CONFIG.warmupSteps)
  .option('--clip <x>', 'clip gradients to this global L2 norm', positive('--clip'), DEFAULT_CONFIG.clip)
  .option('--seed <n>', 'random seed (initialisation and batch order; the word split uses --split-seed)', int('--seed'), DEFAULT_CONFIG.seed)
  .option('--split-seed <n>', 'seed of the fixed train/validation/test word split', int('--split-seed'), 0)
  .option('--minutes <x>', 'training-time budget in minutes (evaluation not counted)', positive('--minutes'), 10)
  .option('--steps <n>', 'stop after this many optimiser steps instead', int('--steps'))
  .option('--threads <n>', "train on this many threads, each taking a share of every batch's words (data parallel)", int('--threads', 1), 1)
  .option('--max-train-words <n>', 'train on only the first n training words', int('--max-train-words'))
  .option('--eval-minutes <x>', 'greedy-decode validation words every this many minutes of training', positive('--eval-minutes'), 2)
  .option('--valid-words <n>', 'validation words decoded during training', int('--valid-words'), 500)
  .option('--test-words <n>', 'test words decoded greedily at the end (default: all)', int('--test-words'))
  .option(
    '--beam-words <n>',
    'decode only the first n of those test words with beam search too (default: all; one word at a time, ~4x slower than greedy)',
    int('--beam-words'),
  )
  .option('--beam <n>', 'beam width', int('--beam'), 4)
  .option('--out <dir>', 'where the model, curves and results go', 'out/seq2seq')
  .action(async (o) => {
    const config: TrainConfig = {
      cell: o.cell,
      embeddingDim: o.embedding,
      hiddenSize: o.hidden,
      attention: o.attention,
      batchSize: o.batch,
      lr: o.lr,
      warmupSteps: o.warmup,
      clip: o.clip,
      seed: o.seed,
    };
    const splits = splitWords(readCmudict(), o.splitSeed);
    const train = o.maxTrainWords === undefined ? splits.train : splits.train.slice(0, o.maxTrainWords);
    const vocab = buildVocabularies(splits.train);
    const validWords = splits.valid.slice(0, o.validWords);
    const test = o.testWords === undefined ? splits.test : splits.test.slice(0, o.testWords);
    const model = makeModel(config, vocab);
    const optimizer = makeOptimizer(config);
    console.log(
      `seq2seq: CMUdict ${splits.train.length} training / ${splits.valid.length} validation / ${splits.test.length} test words` +
        `${train.length < splits.train.length ? ` (training on the first ${train.length})` : ''}; ${vocab.letters.size - 1} letters → ${vocab.phonemes.size - 3} phonemes\n` +
        `  bidirectional ${config.cell.toUpperCase()} encoder → ${config.cell.toUpperCase()} decoder${config.attention ? ' with dot-product attention' : ''}, ` +
        `hidden ${config.hiddenSize}, embedding ${config.embeddingDim}, batch ${config.batchSize}, Adam ${config.lr} (warm-up ${config.warmupSteps}), clip ${config.clip}, seed ${config.seed}, ${o.threads} thread${o.threads === 1 ? '' : 's'}`,
    );
    const budgetMs = o.minutes * 60000;
    const total = o.steps ?? Math.round(budgetMs / 1000);
    const progressOf = (s: { step: number; elapsedMs: number }) => (o.steps !== undefined ? s.step : Math.min(total, Math.round(s.elapsedMs / 1000)));
    const bar = new cliProgress.SingleBar(
      {
        format: 'train |{bar}| {percentage}% | step {step} | epoch {epoch} | loss {loss} | {speed} words/s | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 15000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let state = initialTrainingState(config, model, optimizer);
    bar.start(total, 0, { step: 0, epoch: 0, loss: '-', speed: '-' });
    state = await trainLoop(config, train, vocab, model, state, {
      budgetMs: o.steps === undefined ? budgetMs : undefined,
      maxSteps: o.steps,
      threads: o.threads,
      evalEveryMs: o.evalMinutes * 60000,
      validWords,
      onStep: (s, loss) =>
        bar.update(progressOf(s), { step: s.step, epoch: s.epoch, loss: loss.toFixed(3), speed: (s.wordsSeen / (s.elapsedMs / 1000)).toFixed(0) }),
      onEval: (s, per, acc) => {
        bar.stop();
        console.log(`  validation (greedy, ${validWords.length} words) after ${s.wordsSeen} words: PER ${pct(per)}, word accuracy ${pct(acc)}`);
        bar.start(total, progressOf(s), { step: s.step, epoch: s.epoch, loss: '-', speed: '-' });
      },
    });
    bar.update(progressOf(state));
    bar.stop();
    console.log(
      `\ntrained ${state.step} steps, ${state.wordsSeen} words (${(state.wordsSeen / train.length).toFixed(2)} epochs), ${(state.elapsedMs / 60000).toFixed(1)} min`,
    );

    const began = performance.now();
    const valid = score(validWords, greedyDecode(model, state.params, validWords, vocab));
    const greedy = greedyDecode(model, state.params, test, vocab);
    const greedyAll = score(test, greedy);
    const beamSet = o.beamWords === undefined ? test : test.slice(0, o.beamWords);
    const beam = beamDecode(model, state.params, beamSet, vocab, o.beam);
    const beamRates = score(beamSet, beam);
    const greedySubset = score(beamSet, greedy.slice(0, beamSet.length));
    console.log(`evaluation took ${((performance.now() - began) / 1000).toFixed(0)} s`);
    const history = { ...state.history, validPer: [...state.history.validPer, { words: state.wordsSeen, value: valid.per }] };

    const results = {
      config,
      trainWords: train.length,
      steps: state.step,
      wordsSeen: state.wordsSeen,
      trainMinutes: state.elapsedMs / 60000,
      valid: { greedy: valid },
      test: { greedy: greedyAll, beamSubset: { words: beamSet.length, beamWidth: o.beam, greedy: greedySubset, beam: beamRates } },
      history,
    };
    saveModel(o.out, config, vocab, state.params, o.splitSeed, state.step);
    writeFileSync(join(o.out, 'results.json'), JSON.stringify(results, null, 1));
    const plotPath = join(o.out, 'curves.svg');
    writeFileSync(
      plotPath,
      await curvesSvg(history.loss, history.validPer, `seq2seq ${config.cell} ${config.hiddenSize}${config.attention ? ' + attention' : ''}`),
    );

    const show = (e: Entry, g: readonly string[], b: readonly string[]) =>
      `  ${e.word.padEnd(14)} ${e.phonemes.join(' ').padEnd(28)} greedy ${g.join(' ').padEnd(28)} beam ${b.join(' ')}`;
    console.log('examples (test word, reference, greedy, beam):');
    beamSet.slice(0, 8).forEach((e, i) => console.log(show(e, greedy[i]!, beam[i]!)));
    console.log(`\nmodel, results.json: ${o.out}   curves: ${plotPath}`);
    console.log(`validation (greedy, ${valid.words} words): PER ${pct(valid.per)}, word accuracy ${pct(valid.wordAccuracy)}`);
    console.log(`test, greedy (${greedyAll.words} words):        PER ${pct(greedyAll.per)}, word accuracy ${pct(greedyAll.wordAccuracy)}`);
    const which = beamSet.length === test.length ? `${beamSet.length} words` : `first ${beamSet.length} words`;
    if (beamSet.length < test.length) console.log(`test, greedy (${which}):   PER ${pct(greedySubset.per)}, word accuracy ${pct(greedySubset.wordAccuracy)}`);
    console.log(`test, beam ${o.beam} (${which}):        PER ${pct(beamRates.per)}, word accuracy ${pct(beamRates.wordAccuracy)}`);
  });

program
  .command('eval')
  .description('score a model saved by train on the held-out test (or validation) words, greedy and beam search')
  .option('--model <dir>', 'the directory train wrote', 'out/seq2seq')
  .option('--split <name>', "'test' or 'valid'", 'test')
  .option('--words <n>', 'score only the first n words of the split (default: all)', int('--words'))
  .option('--beam <n>', 'beam width', int('--beam'), 4)
  .action((o) => {
    if (o.split !== 'test' && o.split !== 'valid') throw new InvalidArgumentError(`--split must be 'test' or 'valid', got ${o.split}`);
    const { config, vocab, params, splitSeed } = loadModel(o.model);
    const model = makeModel(config, vocab);
    // the split the model was trained with, so the scored words are held out
    const all = splitWords(readCmudict(), splitSeed)[o.split as 'test' | 'valid'];
    const words = o.words === undefined ? all : all.slice(0, o.words);
    let began = performance.now();
    const greedy = score(words, greedyDecode(model, params, words, vocab));
    const greedySeconds = (performance.now() - began) / 1000;
    began = performance.now();
    const beam = score(words, beamDecode(model, params, words, vocab, o.beam));
    const beamSeconds = (performance.now() - began) / 1000;
    console.log(`${o.split}, greedy (${greedy.words} words, ${greedySeconds.toFixed(0)} s): PER ${pct(greedy.per)}, word accuracy ${pct(greedy.wordAccuracy)}`);
    console.log(`${o.split}, beam ${o.beam} (${beam.words} words, ${beamSeconds.toFixed(0)} s): PER ${pct(beam.per)}, word accuracy ${pct(beam.wordAccuracy)}`);
  });

program
  .command('pronounce')
  .description('pronounce words with a model saved by train')
  .argument('<words...>', 'words (letters and apostrophes)')
  .option('--model <dir>', 'the directory train wrote', 'out/seq2seq')
  .option('--beam <n>', 'beam width', int('--beam'), 4)
  .action((words: string[], o) => {
    const { config, vocab, params } = loadModel(o.model);
    const model = makeModel(config, vocab);
    const entries = words.map((w) => {
      const word = w.toLowerCase();
      const unknown = [...word].filter((ch) => !vocab.letters.has(ch));
      if (word.length === 0) throw new InvalidArgumentError('an empty word has no pronunciation; pass words with letters');
      if (unknown.length > 0) throw new InvalidArgumentError(`${w}: the model knows no ${JSON.stringify(unknown.join(''))}; use letters and apostrophes`);
      return { word, phonemes: [] };
    });
    const greedy = greedyDecode(model, params, entries, vocab);
    const beam = beamDecode(model, params, entries, vocab, o.beam);
    entries.forEach((e, i) => console.log(`${e.word.padEnd(16)} greedy ${greedy[i]!.join(' ').padEnd(30)} beam ${beam[i]!.join(' ')}`));
  });

await runCli(program);
