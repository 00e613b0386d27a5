/**
 * sentiment: many-to-one sequence classification with tapestry. Trains a bidirectional LSTM (or GRU) and a
 * bag-of-words logistic regression on the UCI Sentiment Labelled Sentences with the same training code, then
 * prints their test accuracies and writes the learning curves.
 *
 *   tsx src/cli.ts [options]      (tsx src/cli.ts --help lists them)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { integer as int, fraction, nonNegative, runCli } from '@tapestry/example-common';
import { prepareData, readExamples, SOURCES, SPLIT_SEED } from './dataset.js';
import { bagOfWordsClassifier, recurrentClassifier, type Classifier } from './model.js';
import { curvesSvg } from './plot.js';
import { evaluate, stepsPerEpoch, trainClassifier, type EpochRecord, type TrainConfig } from './training.js';

const program = new Command('sentiment')
  .description('Sentence sentiment with a bidirectional recurrent network vs a bag-of-words logistic regression, trained with tapestry.')
  .addOption(new Option('--cell <type>', 'recurrent cell').choices(['lstm', 'gru']).default('lstm'))
  .addOption(
    new Option(
      '--pooling <how>',
      'sentence vector from the outputs: final states of both directions, mean or max over the words, mean and max, or last and mean',
    )
      .choices(['last', 'mean', 'max', 'mean-max', 'both'])
      .default('mean-max'),
  )
  .option('--embedding <n>', 'word embedding size', int('--embedding', 1), 64)
  .option('--hidden <n>', 'hidden size per direction', int('--hidden', 1), 64)
  .option('--dropout <p>', 'dropout on the embeddings and the sentence vector', fraction('--dropout'), 0.5)
  .option('--word-dropout <p>', 'in training, replace each word by <unk> with this probability', fraction('--word-dropout'), 0.25)
  .option('--epochs <n>', 'at most this many epochs', int('--epochs', 1), 30)
  .option('--patience <n>', 'stop after this many epochs without a better validation accuracy', int('--patience', 1), 6)
  .option('--batch <n>', 'sentences per batch', int('--batch', 1), 32)
  .option('--lr <x>', 'AdamW learning rate (both models)', nonNegative('--lr'), 3e-3)
  .option('--weight-decay <x>', 'AdamW decoupled weight decay (both models)', nonNegative('--weight-decay'), 1e-2)
  .option('--clip <x>', 'clip gradients to this global L2 norm', nonNegative('--clip'), 5)
  .option(
    '--min-frequency <n>',
    'words seen fewer times in training become <unk> (2: the rare words train the <unk> embedding that unseen words get)',
    int('--min-frequency', 1),
    2,
  )
  .option('--max-train <n>', 'train on only the first n training sentences (quick runs)', int('--max-train', 1))
  .option('--no-baseline', 'skip the bag-of-words baseline')
  .option('--threads <n>', "train on this many threads, each taking a share of every batch's sentences (data parallel)", int('--threads', 1), 1)
  .option('--seed <n>', 'random seed of initialisation, shuffling and dropout (the data split is fixed)', int('--seed'), 0)
  .option('--out <dir>', 'where to write curves.svg and results.json', 'out/sentiment')
  .action(async (o) => {
    const data = prepareData(readExamples(), { minFrequency: o.minFrequency, maxTrain: o.maxTrain });
    const padId = data.vocab.padId!;
    const config: TrainConfig = {
      epochs: o.epochs,
      batchSize: o.batch,
      lr: o.lr,
      weightDecay: o.weightDecay,
      clip: o.clip,
      patience: o.patience,
      seed: o.seed,
    };
    console.log(
      `sentiment: UCI Sentiment Labelled Sentences (IMDb, Amazon, Yelp), split seed ${SPLIT_SEED}\n` +
        `  ${data.train.labels.length} training / ${data.valid.labels.length} validation / ${data.test.labels.length} test sentences, vocabulary ${data.vocab.size} words\n` +
        `  bi-${o.cell.toUpperCase()} ${o.hidden}×2, embedding ${o.embedding}, pooling ${o.pooling}, dropout ${o.dropout}, word dropout ${o.wordDropout}; ` +
        `AdamW lr ${o.lr} wd ${o.weightDecay}, clip ${o.clip}, batch ${o.batch}, ≤ ${o.epochs} epochs (patience ${o.patience}), seed ${o.seed}, ${o.threads} thread${o.threads === 1 ? '' : 's'}`,
    );
    const models: Classifier<any>[] = [
      recurrentClassifier({
        vocabSize: data.vocab.size,
        embeddingDim: o.embedding,
        hiddenSize: o.hidden,
        cell: o.cell,
        pooling: o.pooling,
        dropout: o.dropout,
        wordDropout: o.wordDropout,
        unkId: data.vocab.unkId!,
      }),
      ...(o.baseline ? [bagOfWordsClassifier(data.vocab.size, padId)] : []),
    ];
    const results: {
      model: string;
      history: readonly EpochRecord[];
      bestEpoch: number;
      valid: number;
      test: number;
      bySource: Record<string, number>;
      seconds: number;
    }[] = [];
    for (const model of models) {
      const total = config.epochs * stepsPerEpoch(data.train.labels.length, config.batchSize);
      const bar = new cliProgress.SingleBar(
        {
          format: `${model.name.padEnd(12)} |{bar}| {percentage}% | epoch {epoch} | loss {loss} | valid acc {valid} | ETA {eta_formatted}`,
          hideCursor: true,
          noTTYOutput: true,
          notTTYSchedule: 10000,
        },
        cliProgress.Presets.shades_classic,
      );
      let epoch = 1;
      let valid = '-';
      let steps = 0;
      bar.start(total, 0, { epoch, loss: '-', valid });
      const trained = await trainClassifier(model, data.train, data.valid, padId, config, {
        threads: o.threads,
        onStep: (step, loss) => bar.update((steps = step), { epoch, loss: loss.toFixed(3), valid }),
        onEpoch: (r) => {
          // a line per epoch, so the curve is in the log even where the bar cannot redraw (not a TTY)
          bar.stop();
          console.log(
            `  ${model.name} epoch ${r.epoch}: training loss ${r.trainLoss.toFixed(4)}, training accuracy ${r.trainAccuracy.toFixed(3)}, validation accuracy ${r.validAccuracy.toFixed(3)}`,
          );
          valid = r.validAccuracy.toFixed(3);
          epoch = r.epoch + 1;
          bar.start(total, steps, { epoch, loss: '-', valid });
        },
      });
      bar.update(total, { epoch: trained.history.length, valid });
      bar.stop();
      const { accuracy, predictions } = evaluate(model, trained.params, data.test, padId);
      const bySource: Record<string, number> = {};
      for (const source of SOURCES) {
        const rows = data.test.examples
          .map((e, i) => [e.source, i] as const)
          .filter(([s]) => s === source)
          .map(([, i]) => i);
        bySource[source] = rows.filter((i) => predictions[i] === data.test.labels[i]).length / rows.length;
      }
      results.push({
        model: model.name,
        history: trained.history,
        bestEpoch: trained.bestEpoch,
        valid: trained.bestValidAccuracy,
        test: accuracy,
        bySource,
        seconds: trained.seconds,
      });
    }
    mkdirSync(o.out, { recursive: true });
    const plotPath = join(o.out, 'curves.svg');
    writeFileSync(plotPath, await curvesSvg(results, `sentiment: bi-${o.cell} (${o.pooling} pooling) vs bag-of-words, seed ${o.seed}`));
    writeFileSync(join(o.out, 'results.json'), JSON.stringify({ options: o, results }, null, 2) + '\n');
    console.log(
      `\n${'model'.padEnd(14)}${'best epoch'.padStart(11)}${'valid acc'.padStart(11)}${'test acc'.padStart(10)}   ${SOURCES.map((s) => s.padStart(7)).join('')}${'time'.padStart(9)}`,
    );
    for (const r of results) {
      console.log(
        `${r.model.padEnd(14)}${String(r.bestEpoch).padStart(11)}${r.valid.toFixed(3).padStart(11)}${r.test.toFixed(3).padStart(10)}   ` +
          `${SOURCES.map((s) => r.bySource[s]!.toFixed(3).padStart(7)).join('')}${`${r.seconds.toFixed(0)} s`.padStart(9)}`,
      );
    }
    console.log(`(test: ${data.test.labels.length} sentences; chance 0.5)\ncurves: ${plotPath}   results: ${join(o.out, 'results.json')}`);
  });

await runCli(program);
