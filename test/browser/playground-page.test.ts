/**
 * The playground in a real browser: the built page, served by Vite's preview server (with its
 * cross-origin isolation headers), driven in Debian's Chromium through playwright-core, with WebGPU on
 * SwiftShader (Chromium's software Vulkan) so the GPU path runs on a machine without a GPU.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@tapestry/data';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';

const root = fileURLToPath(new URL('../../examples/playground/', import.meta.url));
const outDir = fileURLToPath(new URL('../../examples/playground/dist-test/', import.meta.url));

/** WebGPU in headless Chromium without a GPU: the API turned on, over SwiftShader's software adapter. */
const WEBGPU_ON_SWIFTSHADER = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

let server: PreviewServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir } });
  server = await preview({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...WEBGPU_ON_SWIFTSHADER] });
  page = await browser.newPage({ acceptDownloads: true });
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(server.resolvedUrls!.local[0]!);
  await page
    .getByTestId('status')
    .filter({ hasText: /^ready$/ })
    .waitFor({ timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? '';
const steps = async () => Number(await text('steps'));

/** Small settings, so 30 steps take seconds on a loaded 2-core machine; one CPU thread unless asked. */
async function smallModel(cell: string, compute: { device?: 'cpu' | 'webgpu'; threads?: number } = {}): Promise<void> {
  await page.getByTestId('cell').selectOption(cell);
  for (const [id, value] of [
    ['hiddenSize', '48'],
    ['embeddingDim', '16'],
    ['batchSize', '8'],
    ['seqLen', '24'],
    ['lr', '0.01'],
  ] as const) {
    await page.locator(`#${id}`).fill(value);
  }
  await page.getByTestId('device').selectOption(compute.device ?? 'cpu');
  if ((compute.device ?? 'cpu') === 'cpu') await page.getByTestId('threads').fill(String(compute.threads ?? 1));
}

// The machine running these may be loaded: waits are generous, and nothing asserts a duration.

/** Starts training and pauses after at least `count` steps; returns the losses it read on the way. */
async function train(count: number): Promise<{ first: number; last: number }> {
  await page.getByTestId('start').click();
  await expect.poll(steps, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(count);
  // the first step's loss, which the page keeps beside the latest
  const first = Number(await page.getByTestId('loss').getAttribute('data-first'));
  await page.getByTestId('pause').click();
  await expect.poll(() => text('status'), { timeout: 60_000 }).toMatch(/^paused at step \d+/);
  return { first, last: Number(await text('loss')) };
}

/** The first loss of the LSTM runs on each compute: the same parameters and batch, so the same loss up to rounding. */
const firstLosses: Record<string, number> = {};

describe('the playground page in Chromium', () => {
  it('is cross-origin isolated', async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await text('environment')).toContain('cross-origin isolated');
  });

  it('offers threads (shared memory) and WebGPU (an adapter), saying why', async () => {
    expect(await text('threads-note')).toMatch(/logical cores; threads share memory/);
    expect(Number(await page.getByTestId('threads').getAttribute('max'))).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
    expect(await page.getByTestId('threads').isDisabled()).toBe(false);
    // SwiftShader is an adapter, so the switch is on; being software, the CPU stays the default
    expect(await text('device-note')).toMatch(/swiftshader.*software adapter/i);
    expect(await page.locator('#device option[value=webgpu]').isDisabled()).toBe(false);
    expect(await page.getByTestId('device').inputValue()).toBe('cpu');
    await page.getByTestId('device').selectOption('webgpu');
    expect(await page.getByTestId('threads').isDisabled()).toBe(true);
    await page.getByTestId('device').selectOption('cpu');
  });

  it('trains the LSTM on 2 threads (Web Workers over shared memory): the loss falls', async () => {
    await smallModel('lstm', { threads: 2 });
    const { first, last } = await train(30);
    firstLosses['2 threads'] = first;
    expect(await text('compute')).toBe('CPU, 2 threads');
    expect(first).toBeGreaterThan(4);
    expect(last).toBeLessThan(first - 1);
    expect((await text('sample')).length).toBeGreaterThan(100);
  });

  it('trains the LSTM with WebGPU (SwiftShader): the step runs on the GPU and the loss falls', async () => {
    await smallModel('lstm', { device: 'webgpu' });
    const { first, last } = await train(20);
    firstLosses.webgpu = first;
    expect(await text('compute')).toMatch(/^WebGPU \(.*swiftshader/i);
    expect(first).toBeGreaterThan(4);
    expect(last).toBeLessThan(first - 0.5);
    expect(Number((await text('chars-per-second')).replace(/,/g, ''))).toBeGreaterThan(0);
    // sampling and validation read the parameters back from the GPU
    expect(Number(await text('valid'))).toBeLessThan(first);
    expect((await text('sample')).length).toBeGreaterThan(100);
  });

  it('trains the LSTM on Moby-Dick for 30 steps: the loss falls, chars/s and a sample appear', async () => {
    await smallModel('lstm');
    const { first, last } = await train(30);
    firstLosses['1 thread'] = first;
    expect(await text('compute')).toBe('CPU, 1 thread');
    expect(first).toBeGreaterThan(4);
    expect(last).toBeLessThan(first - 1);
    expect(Number((await text('chars-per-second')).replace(/,/g, ''))).toBeGreaterThan(0);
    expect((await text('sample')).length).toBeGreaterThan(100);
    // pausing stops the steps
    const stopped = await steps();
    await page.waitForTimeout(500);
    expect(await steps()).toBe(stopped);
  });

  it('computes the same first step on 1 thread, 2 threads and the GPU (the page shows 3 decimals)', () => {
    expect(Object.keys(firstLosses).sort()).toEqual(['1 thread', '2 threads', 'webgpu']);
    expect(Math.abs(firstLosses['2 threads']! - firstLosses['1 thread']!)).toBeLessThanOrEqual(0.0011);
    expect(Math.abs(firstLosses.webgpu! - firstLosses['1 thread']!)).toBeLessThanOrEqual(0.0011);
  });

  it('downloads weights as safetensors with PyTorch names, and an upload restores them exactly', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const bytes = readFileSync((await download.path())!);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual([
      'embedding.weight',
      'head.bias',
      'head.weight',
      'rnn.bias_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.weight_ih_l0',
    ]);
    expect(tensors['rnn.weight_ih_l0']!.shape).toEqual([4 * 48, 16]);
    expect(metadata?.format).toBe('tapestry-playground/1');
    const step = Number(metadata!.step);
    expect(step).toBeGreaterThanOrEqual(30);

    await page.getByTestId('upload').setInputFiles({ name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
    await expect.poll(() => text('status'), { timeout: 60_000 }).toContain(`loaded weights from step ${step}`);
    const [again] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    expect(Buffer.compare(readFileSync((await again.path())!), bytes)).toBe(0);
  });

  it('checks the custom cell with checkGrad and trains it in the same loop', async () => {
    await page.getByTestId('check-cell').click();
    await expect.poll(() => text('cell-check'), { timeout: 60_000 }).toMatch(/gradients match finite differences .*: ok/);
    await smallModel('custom');
    const { first, last } = await train(30);
    expect(last).toBeLessThan(first - 1);
    expect(await text('status')).toMatch(/^paused at step/);
  });

  it('reports a cell whose gradient is wrong', async () => {
    const source = await page.getByTestId('cell-source').inputValue();
    await page.getByTestId('cell-source').fill(source.replace('mul(sub(1, f), h)', 'mul(sub(1, f), stopGradient(h))'));
    await page.getByTestId('check-cell').click();
    await expect.poll(() => text('cell-check'), { timeout: 60_000 }).toMatch(/^gradient check failed/);
  });

  it('trains on a dropped text file', async () => {
    const dropped = 'the whale and the sea. '.repeat(400);
    await page.evaluate((content) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], 'dropped.txt', { type: 'text/plain' }));
      document.getElementById('data')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, dropped);
    await expect.poll(() => page.getByTestId('text').inputValue(), { timeout: 10_000 }).toBe(dropped);
    expect(await page.locator('input[name=source][value=custom]').isChecked()).toBe(true);
    await smallModel('gru');
    const { first, last } = await train(30);
    expect(await text('status')).toMatch(/^paused at step/);
    expect(last).toBeLessThan(first - 1);
    // the vocabulary is the dropped text's characters (and the unknown token): samples use nothing else
    const sample = await text('sample');
    const allowed = new Set([...dropped, '\uFFFD']);
    expect(sample.length).toBeGreaterThan(100);
    expect([...sample].filter((c) => !allowed.has(c))).toEqual([]);
  });

  it('served without the isolation headers: one thread, the page says why, and it trains', async () => {
    const plain = await serveWithoutHeaders(outDir);
    const other = await browser.newPage();
    try {
      other.on('console', (message: ConsoleMessage) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()} (unisolated page): ${message.text()}`);
      });
      await other.goto(`http://127.0.0.1:${(plain.address() as { port: number }).port}/`);
      await other
        .getByTestId('status')
        .filter({ hasText: /^ready$/ })
        .waitFor({ timeout: 60_000 });
      expect(await other.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
      expect(await other.getByTestId('threads-note').textContent()).toMatch(/one thread: the page is not cross-origin isolated/);
      expect(await other.getByTestId('threads').inputValue()).toBe('1');
      expect(await other.getByTestId('threads').isDisabled()).toBe(true);
      // and it trains, on one thread (the pool's code, which needs shared memory, is never loaded)
      await other.getByTestId('device').selectOption('cpu');
      for (const [id, value] of [
        ['hiddenSize', '32'],
        ['batchSize', '8'],
        ['seqLen', '16'],
      ] as const)
        await other.locator(`#${id}`).fill(value);
      await other.getByTestId('start').click();
      await expect.poll(async () => Number(await other.getByTestId('steps').textContent()), { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(5);
      expect(await other.getByTestId('compute').textContent()).toBe('CPU, 1 thread');
      await other.getByTestId('pause').click();
    } finally {
      await other.close();
      plain.close();
    }
  });

  it('logged no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});

/** A static server for the built page that sends no COOP/COEP headers, as a plain static host would. */
async function serveWithoutHeaders(dir: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = path === '/' ? 'index.html' : path;
    try {
      const body = readFileSync(join(dir, file));
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
