// Renames wasm-bindgen's import and export names in the JS glue to the short names
// `wasm-opt --minify-imports-and-exports-and-modules` gave them in the wasm (it prints the
// mapping as JSON). The long names carry 16-hex-digit hashes, stored twice (wasm and glue) and
// incompressible: about 2 KB of the gzipped tracker.
// Usage: node minify-names.mjs <mapping.json> <glue-in.js> <glue-out.js>
import { readFileSync, writeFileSync } from "node:fs";

const [mappingFile, input, output] = process.argv.slice(2);
const mapping = JSON.parse(readFileSync(mappingFile, "utf8"));
let glue = readFileSync(input, "utf8");

const modules = new Set(mapping.imports.map(([module]) => module));
if (modules.size !== 1) throw new Error(`expected one import module, found ${[...modules]}`);
const [module] = modules;
const moduleKey = JSON.stringify(module);
if (!glue.includes(moduleKey)) throw new Error(`glue does not name the import module ${module}`);
glue = glue.split(moduleKey).join('"a"'); // binaryen names the single module "a"

const renameAll = (pairs, pattern, mustAppear) => {
  // Longest first, whole identifiers only, so no name is rewritten inside a longer one.
  for (const [from, to] of [...pairs].sort((a, b) => b[0].length - a[0].length)) {
    const re = new RegExp(pattern(from.replace(/[$]/g, "\\$")), "g");
    const before = glue;
    glue = glue.replace(re, (_, prefix) => prefix + to);
    if (mustAppear && before === glue) throw new Error(`glue never mentions ${from}`);
  }
};
// Every import is defined by the glue; some exports (wasm-bindgen internals) are never called.
renameAll(mapping.imports.map(([, from, to]) => [from, to]), (name) => `(^|[^\\w$])${name}(?![\\w$])`, true);
renameAll(mapping.exports, (name) => `(wasm\\.)${name}(?![\\w$])`, false);
writeFileSync(output, glue);
