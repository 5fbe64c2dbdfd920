// Writes FILE.br beside each FILE given: brotli at quality 11, the encoding crow-server serves
// to browsers that accept it (all current ones, over HTTPS). Checks that each decodes back to
// its file, so a served variant can never differ from what it stands for.
import { readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

for (const file of process.argv.slice(2)) {
  const raw = readFileSync(file);
  const mode = file.endsWith(".js") ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC;
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: mode,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  if (!brotliDecompressSync(br).equals(raw)) throw new Error(`${file}: brotli does not round-trip`);
  writeFileSync(`${file}.br`, br);
}
