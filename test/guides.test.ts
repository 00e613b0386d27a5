/**
 * Every ```ts block in docs/guides is compiled and run. A guide's blocks form one program, in order (a
 * later block may use what an earlier one defined), with their imports merged at the top; the program is
 * type-checked against the packages' sources and then imported, which runs it. A guide whose code stops
 * compiling or starts throwing fails here, naming the guide and the line.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const guidesDir = fileURLToPath(new URL('../docs/guides/', import.meta.url));
const outDir = fileURLToPath(new URL('./.guides/', import.meta.url));
const repo = fileURLToPath(new URL('../', import.meta.url));

/** One ```ts block: its code (dedented) and the guide line it starts on. */
interface Block {
  readonly code: string;
  readonly line: number;
}

/** The ```ts blocks of a markdown text, also when indented inside a list item. */
export function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ts\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, lines[j]!.search(/\S|$/))));
    if (j === lines.length) throw new Error(`unclosed \`\`\`ts block at line ${i + 1}`);
    blocks.push({ code: body.join('\n'), line: i + 2 });
    i = j;
  }
  return blocks;
}

/** Joins a guide's blocks into one module: imports merged (one statement per module), then the code in order. */
export function toModule(blocks: readonly Block[]): string {
  const named = new Map<string, Set<string>>();
  const other = new Set<string>();
  const body: string[] = [];
  for (const block of blocks) {
    body.push(`// ---- guide line ${block.line}`);
    const source = ts.createSourceFile('block.ts', block.code, ts.ScriptTarget.ES2022, true);
    let last = 0;
    const kept: string[] = [];
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement)) continue;
      kept.push(block.code.slice(last, statement.getFullStart()));
      last = statement.getEnd();
      const from = (statement.moduleSpecifier as ts.StringLiteral).text;
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings) && !statement.importClause!.name) {
        const set = named.get(from) ?? new Set<string>();
        for (const element of bindings.elements) set.add(element.getText(source));
        named.set(from, set);
      } else {
        other.add(statement.getText(source));
      }
    }
    kept.push(block.code.slice(last));
    // keep the line count of the block so errors point at the right guide line
    body.push(kept.join('').replace(/^\n+/, (m) => m));
  }
  const imports = [...named].map(([from, names]) => {
    const values = [...names].filter((n) => !n.startsWith('type ') || !names.has(n.slice(5)));
    return `import { ${values.join(', ')} } from '${from}';`;
  });
  return [...imports, ...other, ...body, 'export {};', ''].join('\n');
}

const guides = readdirSync(guidesDir)
  .filter((f) => f.endsWith('.md'))
  .sort();
const programs = guides
  .map((file) => ({ file, blocks: extractBlocks(readFileSync(guidesDir + file, 'utf8')) }))
  .filter((g) => g.blocks.length > 0)
  .map((g) => ({ ...g, module: `${outDir}${g.file.replace(/\.md$/, '')}.ts`, source: toModule(g.blocks) }));

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const p of programs) writeFileSync(p.module, p.source);

/** Type errors of every guide's program, as "guide.md line N: message". */
function typeErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(`${repo}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram(
    programs.map((p) => p.module),
    { ...config.options, noUnusedLocals: false, noEmit: true },
  );
  return ts.getPreEmitDiagnostics(program).flatMap((d) => {
    const p = programs.find((q) => d.file?.fileName === q.module);
    if (!p) return d.file ? [] : [ts.flattenDiagnosticMessageText(d.messageText, '\n')];
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
    const moduleLines = p.source.split('\n');
    // find the block this line belongs to and map back to the guide
    let guideLine = 0;
    for (let l = line; l >= 0; l--) {
      const marker = /^\/\/ ---- guide line (\d+)$/.exec(moduleLines[l]!);
      if (marker) {
        guideLine = Number(marker[1]) + (line - l - 1);
        break;
      }
    }
    return [`${p.file} line ${guideLine}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`];
  });
}

describe("the guides' code", () => {
  it('finds the blocks (every guide with code has some)', () => {
    expect(programs.length).toBeGreaterThanOrEqual(8);
  });

  it('type-checks', () => {
    expect(typeErrors()).toEqual([]);
  }, 180_000);

  for (const p of programs) {
    it(`runs ${p.file} (${p.blocks.length} blocks)`, async () => {
      const log = console.log;
      console.log = () => {};
      try {
        await import(p.module);
      } finally {
        console.log = log;
      }
    }, 120_000);
  }
});

describe('the documentation site', () => {
  it('lists every guide in typedoc.json, in reading order', () => {
    const config = JSON.parse(readFileSync(`${repo}typedoc.json`, 'utf8')) as { projectDocuments: string[] };
    const listed = config.projectDocuments.filter((p) => p.startsWith('docs/guides/')).map((p) => p.slice('docs/guides/'.length));
    expect([...listed].sort()).toEqual(guides);
  });
});
