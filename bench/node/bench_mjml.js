// Node's reference mjml: render one MJML file N times per round, warm, in one process.
// usage: node bench_mjml.js file.mjml renders_per_round
// Prints one JSON line when warm, then runs one round per line read from stdin and
// prints its ms per render, so the caller can interleave its own rounds with these
// and both see the same state of a machine whose speed drifts.
'use strict';
const fs = require('fs');
const readline = require('readline');
const mjml2html = require('mjml');

async function main() {
  const [file, perRound = '100'] = process.argv.slice(2);
  const src = fs.readFileSync(file, 'utf8');
  const render = async () => {
    const out = await mjml2html(src);  // v5: a Promise
    if (!out.html || out.html.length < 1000) throw new Error('empty output');
    return out;
  };
  const first = await render();
  for (let i = 0; i < 30; i++) await render();  // warm-up (JIT)
  const n = parseInt(perRound, 10);
  console.log(JSON.stringify({
    html_bytes: Buffer.byteLength(first.html), errors: (first.errors || []).length,
    node: process.version, mjml: require('mjml/package.json').version,
  }));
  for await (const _line of readline.createInterface({ input: process.stdin })) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await render();
    console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6 / n }));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
