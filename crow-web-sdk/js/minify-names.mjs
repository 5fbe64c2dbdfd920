// Finishes wasm-bindgen's JS glue for serving as one file:
//
// 1. Inlines the JS snippets the wasm imports (src/browser/host.js), which wasm-bindgen leaves
//    as separate module files: one request instead of two.
// 2. Renames wasm-bindgen's import and export names to the short names
//    `wasm-opt --minify-imports-and-exports-and-modules` gave them in the wasm (it prints the
//    mapping as JSON). The long names carry 16-hex-digit hashes, stored twice (wasm and glue)
//    and incompressible: about 2 KB of the gzipped tracker.
// 3. Hands the wasm one import module, "a", as binaryen renamed every module to that.
// 4. Replaces the initialisation with the one call the loader makes.
//
// Every step checks that the glue has the shape it expects and fails loudly otherwise, so a new
// wasm-bindgen version cannot produce a silently broken tracker.
// Usage: node minify-names.mjs <mapping.json> <glue-in.js> <glue-out.js>
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [mappingFile, input, output] = process.argv.slice(2);
const mapping = JSON.parse(readFileSync(mappingFile, "utf8"));
let glue = readFileSync(input, "utf8");
const fail = (message) => {
  throw new Error(message);
};

// 1. Snippets: `import { f } from './snippets/…'` and `import * as importN from "./snippets/…"`.
const snippetImport = /^import (\{[^}]*\}|\* as \w+) from ['"](\.\/snippets\/[^'"]+)['"];?$/gm;
const snippets = new Map(); // path → the variable holding its exports
const exports = new Map(); // path → the names it exports
let prelude = "";
glue = glue.replace(snippetImport, (_, what, path) => {
  if (!snippets.has(path)) {
    const source = readFileSync(join(dirname(input), path), "utf8");
    const exported = [...source.matchAll(/^export (?:function|const) (\w+)/gm)].map((m) => m[1]);
    if (exported.length === 0) fail(`snippet ${path} exports nothing`);
    const variable = `__snippet${snippets.size}`;
    snippets.set(path, variable);
    exports.set(path, exported);
    const body = source.replace(/^export (function|const) /gm, "$1 ");
    prelude += `const ${variable} = (() => {\n${body}\nreturn { ${exported.join(", ")} };\n})();\n`;
  }
  const variable = snippets.get(path);
  for (const name of what.startsWith("{") ? what.slice(1, -1).split(",").map((n) => n.trim()) : []) {
    if (!exports.get(path).includes(name)) fail(`snippet ${path} does not export ${name}`);
  }
  return what.startsWith("{") ? `const ${what} = ${variable};` : `const ${what.slice(5)} = ${variable};`;
});
glue = prelude + glue;

// 2. Names. Imports the glue defines (shims) are renamed where it defines them; imports taken
// straight from a snippet keep their names in the glue and are mapped in step 3.
const bgModule = mapping.imports.map(([m]) => m).find((m) => !snippets.has(m)) ?? fail("no glue import module");
const renameAll = (pairs, pattern, mustAppear) => {
  // Longest first, whole identifiers only, so no name is rewritten inside a longer one.
  for (const [from, to] of [...pairs].sort((a, b) => b[0].length - a[0].length)) {
    const re = new RegExp(pattern(from.replace(/[$]/g, "\\$")), "g");
    const before = glue;
    glue = glue.replace(re, (_, prefix) => prefix + to);
    if (mustAppear && before === glue) fail(`glue never mentions ${from}`);
  }
};
const fromGlue = mapping.imports.filter(([m]) => m === bgModule).map(([, from, to]) => [from, to]);
renameAll(fromGlue, (name) => `(^|[^\\w$])${name}(?![\\w$])`, true);
renameAll(mapping.exports, (name) => `(wasm\\.)${name}(?![\\w$])`, false);

// 3. One import module: the glue's own imports plus the snippets' functions under their new names.
const direct = mapping.imports
  .filter(([m]) => m !== bgModule)
  .map(([m, from, to]) => {
    if (!exports.get(m)?.includes(from)) fail(`the wasm imports ${from}, which ${m} does not export`);
    return `${JSON.stringify(to)}: ${snippets.get(m)}.${from}`;
  });
const modules = /return \{\s*__proto__: null,\s*("[^"]+": import\d+,\s*)+\};/;
if (!modules.test(glue) || !glue.includes(`${JSON.stringify(bgModule)}: import0,`)) {
  fail("glue's import object has an unexpected shape");
}
glue = glue.replace(modules, `return { __proto__: null, "a": Object.assign(import0, { ${direct.join(", ")} }) };`);

// 4. One way in. wasm-bindgen's `--target web` init accepts a path, URL, Request, Response,
// bytes or module, in a current and a deprecated calling style, sync or async; the loader only
// ever passes the wasm's URL once. Its replacement streams the compile when the file is served
// as application/wasm (crow-server does) and falls back to bytes when it is not (a storefront's
// own CDN, say).
const init = /\nasync function __wbg_load\(module, imports\) \{[\s\S]*\nexport \{ initSync, __wbg_init as default \};\s*$/;
if (!init.test(glue) || !glue.includes("function __wbg_finalize_init(instance, module) {")) {
  fail("glue's initialisation has an unexpected shape");
}
glue = glue.replace(
  init,
  `
export default async function (url) {
    const imports = __wbg_get_imports();
    const response = fetch(url);
    let loaded;
    try {
        loaded = await WebAssembly.instantiateStreaming(response, imports);
    } catch (e) {
        loaded = await WebAssembly.instantiate(await (await response).arrayBuffer(), imports);
    }
    return __wbg_finalize_init(loaded.instance, loaded.module);
}
`,
);
writeFileSync(output, glue);
