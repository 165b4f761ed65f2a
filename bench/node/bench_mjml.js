// Node's reference mjml: render one MJML file N times per round, warm, in one process.
// usage: node bench_mjml.js file.mjml renders_per_round rounds
'use strict';
const fs = require('fs');
const mjml2html = require('mjml');

async function main() {
  const [file, perRound = '100', rounds = '3'] = process.argv.slice(2);
  const src = fs.readFileSync(file, 'utf8');
  const render = async () => {
    const out = await mjml2html(src);  // v5: a Promise
    if (!out.html || out.html.length < 1000) throw new Error('empty output');
    return out;
  };
  const first = await render();
  for (let i = 0; i < 30; i++) await render();  // warm-up (JIT)
  const n = parseInt(perRound, 10);
  const msPerRound = [];
  for (let r = 0; r < parseInt(rounds, 10); r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await render();
    msPerRound.push(Number(process.hrtime.bigint() - t0) / 1e6 / n);
  }
  console.log(JSON.stringify({
    ms: msPerRound, html_bytes: Buffer.byteLength(first.html),
    errors: (first.errors || []).length, node: process.version,
    mjml: require('mjml/package.json').version,
  }));
}
main().catch((e) => { console.error(e); process.exit(1); });
