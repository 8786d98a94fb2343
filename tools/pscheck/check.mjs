// check.mjs parses PowerShell scripts with the tree-sitter PowerShell
// grammar (WebAssembly build, so no compiler or pwsh is needed) and lists
// every ERROR or MISSING node as file:line:col. Exit status: 0 when every
// file parses cleanly, 1 when any has a syntax error, 2 on a usage problem.
//
// Usage: node check.mjs [file.ps1 ...]
// Without arguments it checks every .ps1 under patch/windows/scripts and
// lease.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Parser, Language } from 'web-tree-sitter';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function defaultFiles() {
  return [['patch', 'windows', 'scripts'], ['lease']].flatMap((parts) => {
    const dir = join(here, '..', '..', ...parts);
    return readdirSync(dir)
      .filter((n) => n.endsWith('.ps1'))
      .sort()
      .map((n) => join(dir, n));
  });
}

// problems walks the tree and returns one entry per ERROR or MISSING node.
// An ERROR node's children are not reported again: the outermost one says
// where the parser lost track.
function problems(tree) {
  const out = [];
  const cursor = tree.walk();
  let descend = true;
  for (;;) {
    const node = cursor.currentNode;
    let report = false;
    if (descend) {
      if (node.isMissing) {
        out.push({ node, what: `missing ${node.type}` });
        report = true;
      } else if (node.isError || node.type === 'ERROR') {
        out.push({ node, what: `syntax error near ${JSON.stringify(node.text.slice(0, 40))}` });
        report = true;
      }
    }
    if (descend && !report && node.hasError && cursor.gotoFirstChild()) {
      continue;
    }
    if (cursor.gotoNextSibling()) {
      descend = true;
      continue;
    }
    if (!cursor.gotoParent()) {
      break;
    }
    descend = false;
  }
  return out;
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
  if (files.length === 0) {
    console.error('pscheck: no .ps1 files to check');
    return 2;
  }
  await Parser.init();
  const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
  const lang = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(lang);

  let bad = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    } catch (err) {
      console.error(`${file}: ${err.message}`);
      bad++;
      continue;
    }
    const tree = parser.parse(text);
    const name = relative(process.cwd(), file) || file;
    const found = problems(tree);
    for (const p of found) {
      const pos = p.node.startPosition;
      console.log(`${name}:${pos.row + 1}:${pos.column + 1}: ${p.what}`);
    }
    if (found.length > 0) {
      bad++;
    }
    tree.delete();
  }
  console.error(`pscheck: ${files.length} file(s), ${bad} with errors`);
  return bad > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`pscheck: ${err.stack || err}`);
    process.exit(2);
  },
);
