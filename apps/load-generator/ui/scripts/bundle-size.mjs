// Reports the size of every file of the build (raw and gzip) and writes dist/bundle-size.json.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(dist)
  .filter((p) => !p.endsWith("bundle-size.json"))
  .map((path) => {
    const bytes = readFileSync(path);
    return { file: relative(dist, path), bytes: bytes.length, gzip_bytes: gzipSync(bytes).length };
  })
  .sort((a, b) => b.bytes - a.bytes);
const total = files.reduce((t, f) => ({ bytes: t.bytes + f.bytes, gzip_bytes: t.gzip_bytes + f.gzip_bytes }), {
  bytes: 0,
  gzip_bytes: 0,
});
writeFileSync(join(dist, "bundle-size.json"), JSON.stringify({ total, files }, null, 2) + "\n");
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log("bundle size (raw / gzip):");
for (const f of files) console.log(`  ${f.file.padEnd(40)} ${kb(f.bytes).padStart(10)} ${kb(f.gzip_bytes).padStart(10)}`);
console.log(`  ${"total".padEnd(40)} ${kb(total.bytes).padStart(10)} ${kb(total.gzip_bytes).padStart(10)}`);
