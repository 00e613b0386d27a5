/**
 * Builds the documentation site into docs/site: the API reference and the guides (typedoc, warnings are
 * errors), then the playground page into docs/site/playground (Vite, warnings are errors), then checks that
 * every relative link and image in the site's HTML reaches a file of the site. Typedoc's own check of
 * relative paths is off because the guides link to the playground, which only exists once this script has
 * built it; the final check here covers every page instead, typedoc's and the playground's.
 *
 * Run: `pnpm run docs` (from the repository root).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const site = join(root, 'docs/site');

// 1. API reference + guides
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc')], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('docs: typedoc failed (see its output above; warnings are errors)');
  process.exit(1);
}

// 2. the playground, into the site
const warnings: string[] = [];
const logger = createLogger('info');
const warn = logger.warn.bind(logger);
logger.warn = (message, options) => {
  warnings.push(message);
  warn(message, options);
};
const playground = join(root, 'examples/playground');
await build({
  root: playground,
  configFile: join(playground, 'vite.config.ts'),
  customLogger: logger,
  logLevel: 'warn',
  build: { outDir: join(site, 'playground') },
});
if (warnings.length > 0) throw new Error(`docs: the playground build warned (warnings are errors):\n${warnings.join('\n')}`);

// 3. every relative link of every page reaches a file
function htmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? htmlFiles(path) : path.endsWith('.html') ? [path] : [];
  });
}
const broken: string[] = [];
for (const page of htmlFiles(site)) {
  const html = readFileSync(page, 'utf8');
  for (const [, target] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    if (target === undefined || target === '' || /^(?:[a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target)) continue;
    const path = decodeURI(target.replace(/[?#].*$/, ''));
    if (path === '') continue;
    let file = resolve(dirname(page), path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(site) || !existsSync(file)) broken.push(`${relative(site, page)}: ${target}`);
  }
}
if (broken.length > 0) throw new Error(`docs: ${broken.length} relative links lead nowhere in docs/site:\n  ${broken.join('\n  ')}`);
console.log(`docs: built ${relative(root, site)} (API, guides, playground); every relative link checked`);
